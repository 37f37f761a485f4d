"""What a check shows the student of their own results, beside its verdict (feedback.html draws it).

A check calls these while it runs: `curve` (their training loss), `against_pass_line` (their trained
metric and the line it had to cross), `table` (their generator's samples, their embeddings' nearest
neighbours). Each records plain data on the check being judged, so it travels with the result; only
the student's own results and the pass line the check's message states go in, never a hidden
expected value. A figure can never fail a check: a value that is not what it should be (the student's
own output) leaves the figure out.
"""
import contextvars
import math
from contextlib import contextmanager

MAX_POINTS = 500  # per series: a curve of 5,000 steps is drawn from every tenth
MAX_ROWS, MAX_CELL = 12, 160

_figures = contextvars.ContextVar("figures")


@contextmanager
def recording():
    """Collect the figures recorded while a check runs; yields their list."""
    figures = []
    token = _figures.set(figures)
    try:
        yield figures
    finally:
        _figures.reset(token)


def _record(figure):
    figures = _figures.get(None)
    if figures is not None:  # outside a check (a notebook's own visible tests) nobody draws
        figures.append(figure)


def _number(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _series(values):
    """At most MAX_POINTS (step, value) pairs of a sequence of numbers, or None when it is not one."""
    try:
        values = list(values)
        step = max(1, math.ceil(len(values) / MAX_POINTS))
        return [[i + 1, _number(values[i])] for i in range(0, len(values), step)] or None
    except (TypeError, ValueError, OverflowError):
        return None


def curve(title, series, xlabel, ylabel, pass_line=None, log=False):
    """Lines of the student's values by step, {label: values}, with the `pass_line` a value must reach."""
    try:
        drawn = {str(label): _series(values) for label, values in dict(series).items()}
    except (TypeError, ValueError):  # not {label: values} (a History the student's code returned wrong)
        return
    drawn = {label: points for label, points in drawn.items() if points}
    if drawn:
        _record({"kind": "curve", "title": title, "series": drawn, "xlabel": xlabel, "ylabel": ylabel,
                 "pass_line": pass_line, "log": bool(log)})


def against_pass_line(title, value, pass_line, higher_is_better=True, unit=""):
    """The student's metric as a bar beside the line it needed to reach."""
    try:
        value = _number(value)
    except (TypeError, ValueError, OverflowError):
        return
    if value is not None:
        _record({"kind": "pass_line", "title": title, "value": value, "pass_line": float(pass_line),
                 "higher_is_better": bool(higher_is_better), "unit": unit})


def table(title, header, rows):
    """A few rows of text: what the student's model wrote, or which words it placed together."""
    try:
        cut = [[str(cell)[:MAX_CELL] for cell in row] for row in list(rows)[:MAX_ROWS]]
    except TypeError:  # not rows of cells: nothing to show
        return
    if cut:
        _record({"kind": "table", "title": title, "header": [str(cell) for cell in header], "rows": cut})
