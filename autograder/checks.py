"""The vocabulary an instructor writes hidden checks in: `check`, `Fail`, `as_*` and `expect_*`.

A check is a plain function `def name(student, rng)` registered with `@check`. It draws its
inputs from `rng`, asks the student's kernel for raw outputs (`student.softmax(z)`,
`student.probe(probes.some_probe, ...)`, see `autograder.student`), and decides here, against
the reference, with the helpers below:

- `as_*` turns a raw output into the Python value a check compares, or fails naming what
  the output is instead;
- `expect_*` compares one kind of output, and fails with a message that says what is wrong
  without ever quoting the reference's answer;
- `curve`, `against_pass_line` and `table` (`autograder.figures`) show the student their own
  results beside the verdict, in feedback.html (`expect_near_reference` draws its pass line itself).

Example:
    >>> @check("test_softmax", points=6, functions=["softmax"])
    ... def softmax_matches_reference(student, rng):
    ...     z = rng.normal(size=(4, 5))
    ...     expect_close(student.softmax(z), ref.softmax(z), "softmax(z)")
"""
from dataclasses import dataclass

import numpy as np

from .figures import against_pass_line, curve, table
from .measured import measured_once
from .wire import Opaque

__all__ = ["Check", "Fail", "check", "draw_seed",
           "as_array", "as_float", "as_int_array", "as_ids", "as_str_list", "as_tuple", "as_vocab",
           "rel_error", "numerical_gradient",
           "expect_close", "expect_outputs", "expect_named", "expect_keys", "expect_tokens", "expect_same_rows",
           "expect_stable", "expect_gradient", "expect_distribution", "expect_near_reference",
           "expect_model", "expect_layers", "measured_once", "curve", "against_pass_line", "table"]

TINY = 1e-300
DISTRIBUTION_ALPHA = 1e-6  # the chance that a correct sampler fails `expect_distribution`
POOLED_BELOW = 5  # expected draws: ids a sample should hit fewer times are tested together


class Fail(AssertionError):
    """The student's output is wrong; the message says how, never what was expected."""


@dataclass(frozen=True)
class Check:
    """A graded check worth `points` of the nbgrader grade cell `grade_id`."""

    name: str
    grade_id: str
    functions: tuple
    points: float
    run: object  # run(student, rng) -> None; raises Fail when the output is wrong


def check(grade_id, points, functions):
    """Register `def name(student, rng)` as a check.

    Args:
        grade_id: the nbgrader grade cell whose points this check shares.
        points: what passing is worth; a grade cell's checks add up to its points.
        functions: the contract functions the check exercises: a policy violation in any of
            them zeroes it, and the feedback names them.
    """
    def register(run):
        return Check(run.__name__, grade_id, tuple(functions), points, run)
    return register


def draw_seed(rng):
    """A seed for the student's own generator, drawn from the check's rng (so a regrade is identical)."""
    return int(rng.integers(2**31))


# ---------------------------------------------------------------- raw outputs as values

def _kind(value):
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def as_array(value, what, shape=None):
    """The student's value as a float64 array of `shape` (any shape when None), or Fail."""
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
    """The student's scalar as a Python float (a one-element array counts), or Fail."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        array = as_array(value, what)
        if array.size != 1:
            raise Fail(f"{what} has shape {array.shape}, expected a scalar")
        return float(array.reshape(()))
    return float(value)


def as_int_array(value, what, shape=None):
    """The student's value as a NumPy array of an integer dtype, as the contract's "int array" asks, or Fail."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "iu":
        raise Fail(f"{what} should be an integer array, got a {_kind(value)}"
                   + (f" of {value.dtype}" if isinstance(value, np.ndarray) else ""))
    if shape is not None and value.shape != tuple(shape):
        raise Fail(f"{what} has shape {value.shape}, expected {tuple(shape)}")
    return value


def as_ids(value, what, size):
    """The student's ids (ints, or whole numbers in any array) as an int64 array, each in 0..size-1, or Fail."""
    if isinstance(value, bool) or (isinstance(value, list) and any(isinstance(v, bool) for v in value)):
        raise Fail(f"{what} should be integer ids, not booleans")
    ids = as_array(value, what)
    if not np.array_equal(ids, np.round(ids)):
        raise Fail(f"{what} holds values that are not whole numbers")
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise Fail(f"{what} holds ids outside 0..{size - 1}")
    return ids.astype(np.int64)


def as_str_list(value, what):
    """The student's value as a list of strings, or Fail."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise Fail(f"{what} should be a list of strings")
    return list(value)


def as_vocab(value, what):
    """The student's token -> id dict, every id a Python int (not a bool), or Fail."""
    if not isinstance(value, dict) or not all(isinstance(i, int) and not isinstance(i, bool)
                                              for i in value.values()):
        raise Fail(f"{what} should be a dict from tokens to integer ids")
    return value


# ---------------------------------------------------------------- comparisons

def rel_error(got, expected):
    """‖got − expected‖ / max(‖got‖, ‖expected‖, tiny), as in CS231n gradient checks."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    scale = max(np.linalg.norm(got), np.linalg.norm(expected), TINY)
    return float(np.linalg.norm(got - expected) / scale)


def expect_close(got, expected, what, tol=1e-7):
    """Fail unless `got` matches `expected` in shape and to relative error `tol` (float64 arithmetic)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(got, what, expected.shape)
    if not np.all(np.isfinite(got)):
        raise Fail(f"{what} contains NaN or infinity")
    error = rel_error(got, expected)
    if not error <= tol:
        raise Fail(f"{what}: relative error {error:.1e} exceeds {tol:.0e}")


def expect_outputs(got, expected, what, atol=1e-5):
    """Fail unless a model's outputs `got` match `expected` entry by entry to `atol` (float32 arithmetic)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(got, what, expected.shape)
    error = float(np.max(np.abs(got - expected), initial=0.0))
    if not error <= atol:
        raise Fail(f"{what}: largest difference {error:.1e} exceeds {atol:.0e}")


def expect_keys(got, keys, what):
    """Fail unless `got` is a dict with exactly `keys`."""
    if not isinstance(got, dict) or set(got) != set(keys):
        found = sorted(got) if isinstance(got, dict) else type(got).__name__
        raise Fail(f"{what} should be a dict with keys {sorted(keys)}, got {found}")


def expect_named(got, expected, names, what, tol=1e-7):
    """Fail unless each named output matches the reference's with `expect_close`.

    Args:
        got: the student's outputs: a dict keyed by `names`, or a tuple in the order of `names`.
        expected: the reference's outputs, in the same form.
        names: what each output is called in messages ("dW", "loss", ...).

    Example:
        >>> expect_named(student.rnn_step_backward(dh, cache), ref.rnn_step_backward(dh, cache),
        ...              ("dx", "dh_prev", "dWx", "dWh", "db"), "rnn_step_backward")
    """
    if isinstance(expected, dict):
        expect_keys(got, names, what)
        pairs = [(name, got[name], expected[name]) for name in names]
    else:
        pairs = zip(names, as_tuple(got, len(names), what), expected)
    for name, value, reference in pairs:
        expect_close(value, reference, f"{name} of {what}", tol)


def expect_tokens(got, expected, what):
    """Fail unless the token list `got` equals `expected`, showing only where the student's own tokens
    first go wrong (never the grader's text)."""
    got = as_str_list(got, what)
    if got != expected:
        first = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
        shown = repr(got[first][:30]) if first < len(got) else "nothing"
        raise Fail(f"{what} returned {len(got)} tokens; they first go wrong at token {first} ({shown})")


def expect_same_rows(got, expected, what):
    """Fail unless `got` holds the integer rows of `expected`, in any order (the contract leaves it free)."""
    expected = np.asarray(expected)
    got = as_array(got, what)
    if got.ndim != 2 or got.shape[1] != expected.shape[1]:
        raise Fail(f"{what} has shape {got.shape}, expected (M, {expected.shape[1]})")
    if not np.array_equal(got, np.round(got)):
        raise Fail(f"{what} holds non-integer values")
    if len(got) != len(expected):
        raise Fail(f"{what} has {len(got)} rows, expected {len(expected)}")
    def in_order(rows):
        return rows[np.lexsort(rows.T[::-1])]
    if not np.array_equal(in_order(got), in_order(expected)):
        raise Fail(f"{what} has the right number of rows, but not the right ones")


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
        got = getattr(student, function)(x)
    try:
        expect_close(got, expected, f"{function} {where}")
    except Fail as failure:
        raise Fail(f"{failure}{suffix}") from None


# ---------------------------------------------------------------- gradients

def numerical_gradient(loss, x, h=1e-5, batched=False):
    """Centred differences of the scalar `loss` at the array `x`, one coordinate at a time.

    With `batched`, `loss` takes the list of all perturbed points and returns their losses: one
    call for the whole gradient, so a loss computed in the student's kernel costs one probe.
    """
    x = np.array(x, dtype=np.float64)
    steps = h * np.eye(x.size).reshape((x.size, *x.shape))
    points = [x + step for step in steps] + [x - step for step in steps]
    losses = np.asarray(loss(points) if batched else [loss(point) for point in points], dtype=np.float64)
    return ((losses[:x.size] - losses[x.size:]) / (2.0 * h)).reshape(x.shape)


def expect_gradient(got, loss, x, what, tol=1e-5, batched=False):
    """Fail unless the student's gradient `got` matches centred differences of the scalar `loss` at `x`.

    Args:
        got: the student's analytic gradient with respect to `x`.
        loss: the loss as a function of `x`: usually the reference's, computed here; a check that
            accepts any loss with a consistent gradient passes the student's own (see `batched`).
        batched: `loss` maps a list of points to their losses (`numerical_gradient`).
    """
    numeric = numerical_gradient(loss, x, batched=batched)
    error = rel_error(as_array(got, what, numeric.shape), numeric)
    if not error < tol:
        source = "your own loss" if batched else "the loss"
        raise Fail(f"gradient check of {what}: relative error {error:.1e} against centred differences "
                   f"of {source} exceeds {tol:.0e}")


# ---------------------------------------------------------------- statistics and metrics

def expect_distribution(draws, p, what):
    """Fail unless the ids `draws` look like independent draws from `p` (chi-square goodness of fit).

    A correct sampler fails with probability DISTRIBUTION_ALPHA; ids where `p` is 0 fail outright. Ids that
    the draws should hit fewer than POOLED_BELOW times each are counted together: a chi-square means what it
    says only where each count expects a few, and one draw of an id expected 0.03 times alone added 31 to
    the statistic (a correct sampler of rnn_textgen lost its points once in 300).
    """
    from scipy.special import chdtri  # chi-square's inverse survival function; imported here, as only samplers need it
    p = np.asarray(p, dtype=np.float64)
    counts = np.bincount(draws, minlength=len(p))
    if np.any(counts[p == 0]):
        raise Fail(f"{what} drew an id that has probability 0")
    expected = len(draws) * p
    common = expected >= POOLED_BELOW
    rare = (p > 0) & ~common
    observed, wanted = list(counts[common]), list(expected[common])
    if rare.any():
        if expected[rare].sum() >= POOLED_BELOW or not wanted:
            observed.append(counts[rare].sum())
            wanted.append(expected[rare].sum())
        else:  # rare even together: they join the least likely of the others
            least = int(np.argmin(wanted))
            observed[least] += counts[rare].sum()
            wanted[least] += expected[rare].sum()
    if len(wanted) < 2:
        return  # every draw in one group: nothing left to test
    observed, wanted = np.array(observed, dtype=np.float64), np.array(wanted)
    statistic = float(np.sum((observed - wanted) ** 2 / wanted))
    if statistic > chdtri(len(wanted) - 1, DISTRIBUTION_ALPHA):
        raise Fail(f"{len(draws)} draws of {what} do not follow the distribution (chi-square {statistic:.0f} "
                   f"on {len(wanted) - 1} degrees of freedom)")


def expect_near_reference(value, reference, margin, what, higher_is_better=True, unit=""):
    """Fail unless a metric of the student's trained model is within `margin` of the reference's own run.

    Args:
        value: the student's metric, measured here on data that never reached the kernel.
        reference: the reference solution's metric with the same data, settings and budget.
        margin: how much worse than the reference still passes.
    """
    threshold = reference - margin if higher_is_better else reference + margin
    against_pass_line(what, value, threshold, higher_is_better, unit)
    if not (value >= threshold if higher_is_better else value <= threshold):
        raise Fail(f"{what} is {value:.3g}{unit}; it needs {'at least' if higher_is_better else 'at most'} "
                   f"{threshold:.3g}{unit} (the reference reaches {reference:.3g}{unit} with the same budget)")


# ---------------------------------------------------------------- Keras models

def expect_model(got, what, params=None, shapes=None):
    """Check a description from `keras_probes.describe_model`; return its layers as {kind: [details]}.

    Fails unless the function returned an uncompiled `keras.Model` (the grader compiles), with
    `params` parameters and outputs of `shapes` on the probe's batches, when those are given.
    """
    if not isinstance(got, dict) or got.get("model") is not True:
        raise Fail(f"{what} should return a keras.Model")
    if got.get("compiled") is not False:
        raise Fail(f"{what} should return the model uncompiled")
    if params is not None and got.get("params") != params:
        raise Fail(f"the model of {what} has {got.get('params')} parameters, expected {params}")
    found = [tuple(shape) if isinstance(shape, (list, tuple)) else shape for shape in got.get("shapes") or []]
    if shapes is not None and found != [tuple(shape) for shape in shapes]:
        raise Fail(f"on batches of shapes {got.get('inputs')} the model of {what} outputs {found}, "
                   f"expected {[tuple(shape) for shape in shapes]}")
    layers = {}
    for kind, details in got.get("layers") or []:
        layers.setdefault(str(kind), []).append(tuple(details) if isinstance(details, (list, tuple)) else details)
    return layers


def _fits(found, expected):
    """A layer's details fit the expected ones; a size the kernel could not read (None) is not held against it."""
    if not isinstance(found, tuple) or not isinstance(expected, tuple):
        return found == expected
    return len(found) == len(expected) and all(f is None or f == e for f, e in zip(found, expected))


def _pairs_up(found, expected):
    """Each expected layer has a found layer of its own that fits it, and no found layer is left over."""
    unmatched = list(found)
    for detail in expected:
        match = next((index for index, item in enumerate(unmatched) if _fits(item, detail)), None)
        if match is None:
            return False
        unmatched.pop(match)
    return not unmatched


def expect_layers(layers, expected, what, only=False):
    """Fail unless `layers` (from `expect_model`) has the `expected` {kind: [details]} layers, in any order.

    With `only`, no other kinds than these (and the InputLayer) may appear.
    """
    for kind, details in expected.items():
        if not _pairs_up(layers.get(kind, []), details):
            raise Fail(f"{what}: expected {kind} layers {sorted(details, key=repr)}, found "
                       f"{sorted(layers.get(kind, []), key=repr)}")
    others = set(layers) - set(expected) - {"InputLayer"}
    if only and others:
        raise Fail(f"{what} should have only {', '.join(sorted(expected))} layers, found {sorted(others)} too")
