"""The autograded notebook that nbgrader's own tools read (`generate_feedback`, the formgrader).

nbgrader's `autograde` leaves `autograded/<student>/<id>/<id>.ipynb`: the student's notebook as it
ran. Ours is the same, from the kernel whose outputs are the student's, except that a test cell is
never run (the judge grades instead), so its output is the judge's verdict on its checks: points
and the student-facing message, never a check's code or an expected value. The formgrader shows
these notebooks in the instructor's browser, so nothing in them may run there: nbconvert's
SanitizeHTML escapes the HTML of markdown cells and outputs and drops JavaScript and other active
outputs.
"""
from pathlib import Path

import nbformat
from nbconvert.preprocessors.sanitize import SanitizeHTML

from . import notebook, report

# nbgrader's own spelling of a submission time (what its exchange writes to timestamp.txt)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"


def verdict(checks):
    """A test cell's output text: its points, then each of its checks with the judge's message."""
    earned, possible = sum(c["points"] for c in checks), sum(c["max_points"] for c in checks)
    lines = [f"autograder: {earned:g} of {possible:g} points"]
    for check in checks:
        mark = "passed" if check["points"] >= check["max_points"] else "lost points"
        lines.append(f"  {check['name']} ({check['points']:g}/{check['max_points']:g}, {mark}): {check['message']}")
    return "\n".join(lines) + "\n"


def annotated(nb, checks):
    """`nb` (executed) with each test cell's output replaced by the verdict on its checks, made inert."""
    for cell in nb.cells:
        if cell.cell_type == "code" and notebook.is_test_cell(cell):
            grade_id = cell.metadata.nbgrader["grade_id"]
            mine = [check for check in checks if check["grade_id"] == grade_id]
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=verdict(mine))]
            cell.execution_count = None
    return SanitizeHTML().preprocess(nb, {})[0]


def folder(assignment, student_id):
    """Where nbgrader keeps `student_id`'s autograded files of the assignment (the course's configuration)."""
    coursedir = assignment.coursedir
    return coursedir.format_path(coursedir.autograded_directory, student_id, assignment.id)


def write(assignment, result, notebook_json, timestamp):
    """Write the autograded notebook of `result` (with its timestamp.txt, as nbgrader's autograde copies it),
    or remove an earlier one when this grading ran no notebook (it would show a previous submission)."""
    target = Path(folder(assignment, result["student_id"]))
    path, stamp = target / f"{assignment.notebook_id}.ipynb", target / "timestamp.txt"
    if notebook_json is None:
        path.unlink(missing_ok=True)
        return None
    nb = annotated(nbformat.reads(notebook_json, as_version=4), result["checks"])
    report.atomic_write(path, nbformat.writes(nb))
    if timestamp:
        report.atomic_write(stamp, timestamp.strftime(TIMESTAMP_FORMAT))
    else:
        stamp.unlink(missing_ok=True)
    return path
