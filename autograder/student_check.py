"""`autograder check`: the student's own report of the visible checks, run on their machine."""
from dataclasses import dataclass

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from . import notebook, policy
from .execution import LocalKernel
from .limits import Limits

PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"
STYLES = {PASSED: "green", FAILED: "red", NOT_RUN: "yellow"}
BRIEF = 150  # characters of a message: at most a few lines of the table at 80 columns


@dataclass(frozen=True)
class VisibleCheck:
    """One visible test cell in this run; `reason` says why it failed or did not run, when known."""

    grade_id: str
    points: float
    result: str  # PASSED, FAILED or NOT_RUN
    reason: str | None = None


def _brief(message):
    """The message on one line of at most BRIEF characters: a long assertion must not swamp the report.
    An error without a message ("NotImplementedError:") loses its dangling colon."""
    text = " ".join(message.split()).rstrip(":")
    return text if len(text) <= BRIEF else text[:BRIEF - 1].rstrip() + "…"


def _forget_counts(nb):
    """Clear the execution counts saved with the student's own run, so a count means this run executed the cell."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count = None


def _checks(nb, trips, stopped):
    """The VisibleCheck of each visible test cell of `nb` after its run. A cell the kernel never executed has not
    run (`stopped`: why the run ended early, or None), whatever a trip says of it."""
    executed = {cell.metadata.nbgrader["grade_id"] for cell in nb.cells
                if notebook.is_test_cell(cell) and cell.get("execution_count") is not None}
    notes = {trip.source: trip.note for trip in trips}
    for grade_id, points in notebook.grade_cell_points(nb).items():
        if grade_id not in executed:
            yield VisibleCheck(grade_id, points, NOT_RUN, stopped)
        elif grade_id in notes:  # the table names the cell already: the note's own "cell '...'" goes
            reason = notes[grade_id].removeprefix(f"cell '{grade_id}'").lstrip(": ")
            yield VisibleCheck(grade_id, points, FAILED, reason)
        else:
            yield VisibleCheck(grade_id, points, PASSED)


def _table(title, results):
    """One row per visible check; reasons shortened, so the table stays readable at 80 columns."""
    out = Table("visible check", "points", "result", title=title)
    for check in results:
        text = f"{check.result}: {_brief(check.reason)}" if check.reason else check.result
        out.add_row(Text(check.grade_id), f"{check.points:g}", Text(text, style=STYLES[check.result]))
    return out


def _total(results):
    """The summary line: points of the visible checks that passed, and how many passed, failed or did not run."""
    earned = sum(check.points for check in results if check.result == PASSED)
    possible = sum(check.points for check in results)
    counts = {result: sum(check.result == result for check in results) for result in STYLES}
    shown = ", ".join(f"{count} {result}" for result, count in counts.items() if count or result == PASSED)
    return f"total: {earned:g}/{possible:g} points in visible checks passed ({shown})"


def main(path, console):
    """Run the notebook with its visible test cells; print which pass. Exit status 0 when all do and no
    policy is broken; a failing cell outside the visible checks (a demo, a plot) is only a note."""
    try:
        nb = notebook.load(path)
    except notebook.InvalidNotebook as error:
        console.print(f"[red]error:[/red] {escape(str(error))}")
        return 2
    settings = nb.metadata.get("autograder", {})
    functions = list(notebook.solution_cells(nb))
    course_modules = [module.stem for module in path.parent.glob("*.py")]  # released beside the notebook
    violations = policy.scan(nb, policy.rules(settings, functions, course_modules))
    _forget_counts(nb)
    kernel = LocalKernel(Limits(**settings.get("limits", {})), execution="validate")
    with kernel.open(nb, path.parent.resolve()) as session:
        trips = session.run_notebook()
        stopped = session.broken and str(session.broken)
    results = list(_checks(nb, trips, stopped))
    console.print(_table(f"{path.name}: visible checks", results))
    console.print(Text(_total(results), style="bold"))
    for function, reason in violations.items():
        console.print(f"[red]policy:[/red] {escape(f'{function} {reason}')}: its checks will score zero")
    visible = {check.grade_id for check in results}
    for trip in trips:
        if trip.source not in visible:
            console.print(Text.assemble(("note:", "yellow"), " ", _brief(trip.note)))
    console.print("Passing these does not guarantee full marks: the grader also runs hidden checks.")
    return 0 if all(check.result == PASSED for check in results) and not violations else 1
