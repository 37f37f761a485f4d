"""`autograder check`: the student's own report of the visible checks, run on their machine."""
from rich.markup import escape
from rich.table import Table

from . import notebook, policy
from .execution import LocalKernel
from .limits import Limits


def main(path, console):
    """Run the notebook with its visible test cells; print which pass. Exit status 0 when all do."""
    try:
        nb = notebook.load(path)
    except notebook.InvalidNotebook as error:
        console.print(f"[red]error:[/red] {escape(str(error))}")
        return 2
    settings = nb.metadata.get("autograder", {})
    functions = list(notebook.solution_cells(nb))
    course_modules = [module.stem for module in path.parent.glob("*.py")]  # released beside the notebook
    violations = policy.scan(nb, policy.rules(settings, functions, course_modules))
    kernel = LocalKernel(Limits(**settings.get("limits", {})), execution="validate")
    with kernel.open(nb, path.parent.resolve()) as session:
        failures = {trip.source: trip.note for trip in session.run_notebook()}
    table = Table("visible check", "points", "result", title=f"{path.name}: visible checks")
    points_by_cell = notebook.grade_cell_points(nb)
    for grade_id, points in points_by_cell.items():
        message = failures.get(grade_id)
        table.add_row(escape(grade_id), f"{points:g}", "[green]passed[/green]" if message is None
                      else f"[red]{escape(message)}[/red]")
    console.print(table)
    for function, reason in violations.items():
        console.print(f"[red]policy:[/red] {escape(f'{function} {reason}')}: its checks will score zero")
    others = [message for grade_id, message in failures.items()
              if grade_id not in points_by_cell]
    for message in others:
        console.print(f"[yellow]note:[/yellow] {escape(message)}")
    console.print("Passing these does not guarantee full marks: the grader also runs hidden checks.")
    return 0 if not failures and not violations else 1
