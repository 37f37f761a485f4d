"""A grading run's results in the forms courses upload: a CSV with a column per check, a Canvas
gradebook import, and Gradescope's results.json per student.

Each reads what `grade --output OUT` wrote (grades.csv, then each student's result.json). The
score a course uploads is nbgrader's: the judge's score less the late penalty, never below zero.
Only the student-facing messages leave: never a check's code or an expected value. The Canvas
import is also an nbgrader ExportPlugin, which reads the gradebook itself, manual grades included.
"""
import csv
import io
import json
import logging
from pathlib import Path

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin

from . import report
from .course import CourseError

log = logging.getLogger(__name__)
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def final_score(result):
    """What the student gets: the judge's score less nbgrader's late penalty, as `nbgrader export` has it."""
    return max(0.0, result["score"] - result.get("late_penalty", 0))


def read_run(assignment_id, output_dir):
    """The results of one `grade` run in `output_dir`, in student order; a student whose folder name is not a
    usable id (never a student an LMS knows) is left out and named in the log."""
    grades = Path(output_dir) / "grades.csv"
    if not grades.is_file():
        raise CourseError(f"{grades} is missing: run `autograder grade {assignment_id} --output {output_dir}` first")
    results = []
    for row in report.read_grades(grades):
        student = row["student_id"]
        if problem := report.id_problem(student):
            log.warning("left out %r: %s", student, problem)
            continue
        result = report.read_result(output_dir, student)
        if result is None:
            raise CourseError(f"{report.student_folder(output_dir, student) / 'result.json'} is missing or not JSON")
        if result.get("assignment") != assignment_id:
            raise CourseError(f"{output_dir} holds grades of {result.get('assignment')!r}, not {assignment_id!r}")
        results.append(result)
    return results


def _write_rows(path, rows):
    """A CSV file whose cells a spreadsheet shows as text (report's defence against formulas)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([[report.inert(cell) for cell in row] for row in rows])
    report.atomic_write(path, buffer.getvalue())
    return path


def to_csv(assignment_id, results, folder):
    """One row per student: the totals, then the points of each check, by its name."""
    names = list(dict.fromkeys(check["name"] for result in results for check in result["checks"]))
    rows = [["student_id", "score", "max_score", "late_penalty", "final_score", "status", "timestamp", *names]]
    for result in results:
        points = {check["name"]: check["points"] for check in result["checks"]}
        rows.append([result["student_id"], result["score"], result["max_score"], result.get("late_penalty", 0),
                     final_score(result), result["status"], result.get("timestamp") or "",
                     *(points.get(name, "") for name in names)])
    return [_write_rows(Path(folder) / f"{assignment_id}-grades.csv", rows)]


def _canvas_rows(assignments, points_possible, scores):
    """Canvas's gradebook import: the identity columns (students matched on SIS Login ID, which must be the
    nbgrader student id), a "Points Possible" row, and a column per assignment; `scores` {student: [score]}."""
    rows = [[*CANVAS_IDENTITY, *assignments], ["Points Possible", "", "", "", "", *points_possible]]
    return rows + [[student, "", "", student, "", *row] for student, row in scores.items()]


def to_canvas(assignment_id, results, folder):
    """Canvas's gradebook import of one grading run: a column named after the assignment."""
    points_possible = max((result["max_score"] for result in results), default=0)
    rows = _canvas_rows([assignment_id], [points_possible],
                        {result["student_id"]: [final_score(result)] for result in results})
    return [_write_rows(Path(folder) / f"{assignment_id}-canvas.csv", rows)]


class CanvasExportPlugin(ExportPlugin):
    """`nbgrader export --exporter=autograder.exports.CanvasExportPlugin --to=canvas.csv`: the course gradebook
    (manual grades included) as a Canvas import, a column per assignment, each score less nbgrader's late
    penalty; `--assignment` and `--student` narrow it as they do nbgrader's own CSV export."""

    def export(self, gradebook):
        assignments = [a for a in gradebook.assignments if not self.assignment or a.name in self.assignment]
        students = [s.id for s in gradebook.students if not self.student or s.id in self.student]

        def score(assignment, student):
            try:
                submission = gradebook.find_submission(assignment.name, student)
            except MissingEntry:
                return ""  # nothing handed in: Canvas leaves the cell as it is
            return max(0.0, submission.score - submission.late_submission_penalty)

        rows = _canvas_rows([a.name for a in assignments], [a.max_score for a in assignments],
                            {student: [score(a, student) for a in assignments] for student in students})
        self.log.info("Exporting %d students' grades of %d assignments to %s", len(students), len(assignments),
                      self.to or "canvas.csv")
        _write_rows(Path(self.to or "canvas.csv"), rows)


def gradescope_results(result):
    """Gradescope's results.json for one result: a test per check (its points and message), the total."""
    late = result.get("late_penalty", 0)
    summary = f"{result['status']}: {result['message']}" if result["message"] else result["status"]
    return {"score": final_score(result), "execution_time": result.get("seconds", 0), "visibility": "visible",
            "output": summary + (f" (late penalty {late:g})" if late else ""),
            "tests": [{"name": check["name"], "number": str(number), "score": check["points"],
                       "max_score": check["max_points"], "output": check["message"], "visibility": "visible",
                       "status": "passed" if check["points"] == check["max_points"] else "failed",
                       "tags": list(check["functions"])}
                      for number, check in enumerate(result["checks"], start=1)]}


def to_gradescope(assignment_id, results, folder):
    """A results.json per student, in `folder`/<student>/."""
    paths = []
    for result in results:
        path = report.student_folder(folder, result["student_id"]) / "results.json"
        report.atomic_write(path, json.dumps(gradescope_results(result), indent=2) + "\n")
        paths.append(path)
    return paths


FORMATS = {"csv": to_csv, "canvas": to_canvas, "gradescope": to_gradescope}
