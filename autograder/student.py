"""`Student`: the student's functions as a check sees them, reached only through their kernels.

A check reads `student.softmax(z)` beside `ref.softmax(z)`: each call runs in the student's
kernel on inputs the check drew, and comes back as raw data (`wire`) for the check to judge.
Richer questions (build a model, train it, describe it) are probes: functions of the course's
`reference/<id>_probes.py`, sent with `student.probe(probes.name, **inputs)`.
"""
import hashlib
import re

import numpy as np

from . import probes, wire
from .checks import Fail, as_tuple
from .execution import CellTimedOut
from .limits import limit_status
from .wire import WireError

# what the sandbox's stand-ins raise (unavailable.py in the NumPy-only kernel, sandbox.py elsewhere)
UNAVAILABLE = re.compile(r"^([A-Za-z_][\w.]*) is not (?:available here|allowed in this assignment)")
NOTING_WARNINGS = ("import warnings\nwith warnings.catch_warnings(record=True) as caught:\n"
                   "    warnings.simplefilter('always')\n    value = {function}(*args)\n"
                   "result = (value, [w.category.__name__ for w in caught])")


class Blocked(Fail):
    """A probe would call a function that the static policy or a missing definition zeroes."""


class PolicyBreach(Fail):
    """A function reached a library it may not use while it ran (the sandbox made it unavailable)."""


class StudentError(Exception):
    """The student's code raised while a probe ran; `limit` names the limit it hit, if any."""

    def __init__(self, message, limit=None):
        super().__init__(message)
        self.limit = limit


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

    A probe runs in the kernel that `kernels` picks for the contract functions it calls (the
    NumPy-only kernel for NumPy-only functions); a probe that would call a `blocked` function
    does not run, so a penalty falls on the checks that really exercise that function.
    """

    def __init__(self, kernels, functions, blocked):
        self._kernels = kernels
        self._functions = tuple(functions)
        self._blocked = blocked
        self._once = {}

    def __getattr__(self, name):
        """`student.<function>(*args)`: call one contract function in the kernel; return its raw result."""
        if name.startswith("_") or name not in self._functions:
            raise AttributeError(f"{name!r} is not a function of this assignment's contract")
        return lambda *args: self._named(name, f"result = {name}(*args)", args)

    def probe(self, function, **inputs):
        """Run the kernel-side `function(student, **inputs)` of a probes module; return its raw result.

        Inputs must come back unchanged: the student's functions must not mutate their arguments.
        """
        found = probes.probe(function)
        return self._run(found.code(inputs), found.reads & set(self._functions), inputs)

    def probe_once(self, function, **inputs):
        """`probe`, once per submission, for a probe that several checks share (training a model, say).

        Later checks get the same result, or the same error, without running it again.
        """
        key = hashlib.sha256((function.__qualname__ + wire.encode(inputs)).encode()).hexdigest()
        if key not in self._once:
            try:
                self._once[key] = (self.probe(function, **inputs), None)
            except (Fail, StudentError, CellTimedOut, WireError) as error:
                self._once[key] = (None, error)
        result, error = self._once[key]
        if error:
            raise error
        return result

    def call_noting_warnings(self, function, *args):
        """Call one contract function on `args`; return (raw result, names of the warnings it emitted)."""
        value, warned = as_tuple(self._named(function, NOTING_WARNINGS.format(function=function), args), 2,
                                 f"the probe of {function}")
        return value, sorted(set(map(str, warned))) if isinstance(warned, list) else ["?"]

    def _named(self, function, code, args):
        try:
            return self._run(code, {function}, {"args": list(args)})
        except (Blocked, PolicyBreach):
            raise  # their messages name the functions already
        except Fail as failure:
            raise Fail(f"{function} {failure}") from None
        except StudentError as error:
            raise StudentError(f"{function} {error}", error.limit) from None

    def _run(self, code, called, inputs):
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
