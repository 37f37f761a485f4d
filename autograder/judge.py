"""The judge: runs an assignment's checks in the grader's own process.

A check is plain Python written like a test. It asks the student's kernel for
raw outputs through `Student` and decides here, against the reference, with
the helpers below. Nothing the student's process says is believed except as data.
"""
import hashlib
import re
from dataclasses import dataclass

import numpy as np

from . import policy, wire
from .execution import CellTimedOut, SessionBroken
from .limits import limit_status
from .outcome import Status, Trip
from .wire import Opaque, WireError

TINY = 1e-300


class Fail(AssertionError):
    """The student's output is wrong; the message says how, never what was expected."""


class Blocked(Fail):
    """A probe would call a function that the static policy or a missing definition zeroes."""


class PolicyBreach(Fail):
    """A function reached a library it may not use while it ran (the sandbox made it unavailable)."""


# what the sandbox's stand-ins raise (unavailable.py in the NumPy-only kernel, sandbox.py elsewhere)
UNAVAILABLE = re.compile(r"^([A-Za-z_][\w.]*) is not (?:available here|allowed in this assignment)")


class StudentError(Exception):
    """The student's code raised while a probe ran; `limit` names the limit it hit, if any."""

    def __init__(self, message, limit=None):
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class Check:
    """A graded check worth `points` of the nbgrader grade cell `grade_id`."""

    name: str
    grade_id: str
    functions: tuple
    points: float
    run: object  # run(student, rng) -> None; raises Fail when the output is wrong


def check(grade_id, points, functions):
    """Decorator turning `def name(student, rng)` into a Check of a checks module."""
    def register(run):
        return Check(run.__name__, grade_id, tuple(functions), points, run)
    return register


@dataclass
class CheckResult:
    name: str
    grade_id: str
    functions: list
    points: float
    max_points: float
    message: str

    def as_dict(self):
        return {"name": self.name, "grade_id": self.grade_id, "functions": self.functions, "points": self.points,
                "max_points": self.max_points, "message": self.message}


def _same(before, after):
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and before.shape == after.shape and \
            np.array_equal(before, after, equal_nan=before.dtype.kind == "f")
    if isinstance(before, dict):
        return isinstance(after, dict) and before.keys() == after.keys() and \
            all(_same(before[key], after[key]) for key in before)
    if isinstance(before, (list, tuple)):
        return isinstance(after, (list, tuple)) and len(before) == len(after) and \
            all(_same(b, a) for b, a in zip(before, after))
    return type(before) is type(after) and before == after


class Student:
    """The student's functions, reached only through probes in their kernels.

    A probe runs in the kernel that `kernels` picks for the contract functions its code calls
    (the NumPy-only kernel for NumPy-only functions); a probe that would call a `blocked`
    function does not run, so a penalty falls on the checks that really exercise that function.
    """

    def __init__(self, kernels, functions, blocked):
        self._kernels = kernels
        self._functions = tuple(functions)
        self._blocked = blocked
        self._calls = {}  # probe source -> the contract functions it calls (a probe runs many times)
        self._shared = {}

    def run(self, code, **inputs):
        """Run probe `code` (which sets `result`) with `inputs` bound; return the raw result.

        Inputs must come back unchanged: NumPy parts must not mutate their arguments.
        """
        if code not in self._calls:
            self._calls[code] = policy.contract_calls(code, self._functions)
        called = self._calls[code]
        reasons = [self._blocked[function] for function in sorted(called) if function in self._blocked]
        if reasons:
            raise Blocked("; ".join(reasons))
        witness = self._kernels.session(called).probe(code, inputs)
        if "error" in witness:
            error = witness["error"]
            kind, message = str(error.get("type")), str(error.get("message"))
            unavailable = UNAVAILABLE.match(message) if kind == "ImportError" else None
            if unavailable:
                raise PolicyBreach(f"policy: {', '.join(sorted(called))} used {unavailable[1]} while it ran, "
                                   "which this function may not use")
            raise StudentError(f"raised {kind}: {message}", limit_status(kind, message))
        after = witness.get("inputs_after", {})
        for name, before in inputs.items():
            if not _same(before, after.get(name) if isinstance(after, dict) else None):
                raise Fail(f"modified its input `{name}`")
        return witness.get("result")

    def run_shared(self, code, **inputs):
        """`run`, once per submission for a probe that several checks share (training a model, say).

        Later checks get the same result, or the same error, without running the probe again.
        """
        key = hashlib.sha256((code + wire.encode(inputs)).encode()).hexdigest()
        if key not in self._shared:
            try:
                self._shared[key] = (self.run(code, **inputs), None)
            except (Fail, StudentError, CellTimedOut, WireError) as error:
                self._shared[key] = (None, error)
        result, error = self._shared[key]
        if error:
            raise error
        return result

    def call(self, function, *args):
        """Call one student function on `args`; return its raw result."""
        return self._named(function, f"result = {function}(*args)", args)

    def call_noting_warnings(self, function, *args):
        """Call one student function on `args`; return (raw result, names of the warnings it emitted)."""
        code = ("import warnings\nwith warnings.catch_warnings(record=True) as caught:\n"
                f"    warnings.simplefilter('always')\n    value = {function}(*args)\n"
                "result = (value, [w.category.__name__ for w in caught])")
        value, warned = as_tuple(self._named(function, code, args), 2, f"the probe of {function}")
        return value, sorted(set(map(str, warned))) if isinstance(warned, list) else ["?"]

    def _named(self, function, code, args):
        try:
            return self.run(code, args=list(args))
        except (Blocked, PolicyBreach):
            raise  # their messages name the functions already
        except Fail as failure:
            raise Fail(f"{function} {failure}") from None
        except StudentError as error:
            raise StudentError(f"{function} {error}", error.limit) from None


def _kind(value):
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def as_array(value, what, shape=None):
    """The student's value as a float64 array, or Fail naming what is wrong with it."""
    if isinstance(value, (Opaque, dict, str)) or value is None:
        raise Fail(f"{what} is a {_kind(value)}, not an array of numbers")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Fail(f"{what} is not an array of numbers") from None
    if shape is not None and array.shape != tuple(shape):
        raise Fail(f"{what} has shape {array.shape}, expected {tuple(shape)}")
    return array


def as_tuple(value, length, what):
    """The student's value as a tuple of `length` items, or Fail."""
    if not isinstance(value, tuple) or len(value) != length:
        raise Fail(f"{what} should return a tuple of {length}, got a {_kind(value)}")
    return value


def as_float(value, what):
    """The student's value as a Python float, or Fail."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        array = as_array(value, what)
        if array.size != 1:
            raise Fail(f"{what} has shape {array.shape}, expected a scalar")
        return float(array.reshape(()))
    return float(value)


def rel_error(got, expected):
    """‖got − expected‖ / max(‖got‖, ‖expected‖, tiny), as in CS231n gradient checks."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    scale = max(np.linalg.norm(got), np.linalg.norm(expected), TINY)
    return float(np.linalg.norm(got - expected) / scale)


def expect_close(got, expected, what, tol=1e-7):
    """Fail unless `got` matches `expected` in shape and to relative error `tol`."""
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(got, what, expected.shape)
    if not np.all(np.isfinite(got)):
        raise Fail(f"{what} contains NaN or infinity")
    error = rel_error(got, expected)
    if not error <= tol:
        raise Fail(f"{what}: relative error {error:.1e} exceeds {tol:.0e}")


def expect_stable(student, function, x, expected, where, advice="", quiet=False):
    """Fail unless `function(x)` at extreme values is finite and matches `expected`: judged on the values.

    `quiet` also fails a function that warns (overflow, invalid value). That part rests on what the
    kernel reports about itself, so it is forgeable (docs/security.md lists the checks that use it).
    """
    suffix = f": {advice}" if advice else ""
    if quiet:
        got, warned = student.call_noting_warnings(function, x)
        if warned:
            raise Fail(f"{function} warned ({', '.join(warned)}) {where}{suffix}")
    else:
        got = student.call(function, x)
    try:
        expect_close(got, expected, f"{function} {where}")
    except Fail as failure:
        raise Fail(f"{failure}{suffix}") from None


def expect_outputs(got, expected, what, atol=1e-5):
    """Fail unless a model's outputs `got` match `expected` entry by entry to `atol` (float32 arithmetic)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(got, what, expected.shape)
    error = float(np.max(np.abs(got - expected), initial=0.0))
    if not error <= atol:
        raise Fail(f"{what}: largest difference {error:.1e} exceeds {atol:.0e}")


def numerical_gradient(f, x, h=1e-5):
    """Centred differences of the scalar f(x) at the array x, one coordinate at a time."""
    x = np.array(x, dtype=np.float64)
    steps = h * np.eye(x.size).reshape((x.size, *x.shape))
    return np.array([(f(x + step) - f(x - step)) / (2.0 * h) for step in steps]).reshape(x.shape)


def expect_gradient(got, f, x, what, tol=1e-5):
    """Fail unless the student's gradient `got` matches centred differences of the scalar f at x.

    The differences are computed here, from the reference's loss: the student only supplies `got`.
    """
    numeric = numerical_gradient(f, x)
    error = rel_error(as_array(got, what, numeric.shape), numeric)
    if not error < tol:
        raise Fail(f"gradient check of {what}: relative error {error:.1e} against centred differences "
                   f"of the loss exceeds {tol:.0e}")


def expect_tokens(got, expected, what):
    """Fail unless the token list `got` equals `expected`, showing only where the student's own tokens
    first go wrong (never the grader's text)."""
    if got != expected:
        first = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
        shown = repr(got[first][:30]) if first < len(got) else "nothing"
        raise Fail(f"{what} returned {len(got)} tokens; they first go wrong at token {first} ({shown})")


def expect_keys(got, keys, what):
    """Fail unless `got` is a dict with exactly `keys`."""
    if not isinstance(got, dict) or set(got) != set(keys):
        found = sorted(got) if isinstance(got, dict) else type(got).__name__
        raise Fail(f"{what} should be a dict with keys {sorted(keys)}, got {found}")


def _check_seed(seed, name):
    return [seed, int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")]


def run_checks(checks, student, seed):
    """Run every check through `student`; return (results, trips).

    `trips` has a Trip for each check that hit a limit, broke a kernel, breached the policy
    while running, or failed in its own code (a grader error: zero for that check only, and a
    status that asks for a look).
    A check's rng depends only on the seed and its name, so a regrade is identical.
    """
    results, trips, broken = [], [], []
    for item in checks:
        points, message = 0, "passed"
        try:
            item.run(student, np.random.default_rng(_check_seed(seed, item.name)))
            points = item.points
        except PolicyBreach as breach:
            message = str(breach)
            trips.append(Trip(Status.POLICY, message, item.name))
        except Fail as failure:
            message = str(failure)
        except StudentError as error:
            message = str(error)
            if error.limit:
                trips.append(Trip(error.limit, f"check {item.name} hit the {error.limit} limit", item.name))
        except CellTimedOut as timeout:
            message = f"timeout: {timeout}"
            trips.append(Trip(Status.TIMEOUT, f"check {item.name} hit the timeout limit", item.name))
        except WireError as error:
            message = f"the output could not be read: {error}"
        except SessionBroken as error:
            if error in broken:  # a kernel that broke earlier: its status is noted already
                message = f"not run: {error}"
            else:
                message = str(error)
                broken.append(error)
                trips.append(Trip(error.status, message, item.name))
        except Exception as error:  # a fault of this check's own code: the others still run
            message = f"grader error in this check ({type(error).__name__}: {error}); please report it"
            trips.append(Trip(Status.GRADER_ERROR, f"check {item.name} failed in the grader's own code", item.name))
        results.append(CheckResult(item.name, item.grade_id, list(item.functions), points,
                                   item.points, message))
    return results, trips
