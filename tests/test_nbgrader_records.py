"""nbgrader stays the record: `grade` in a course folder leaves the course gradebook and the autograded
notebooks as nbgrader's own autograde leaves them, so `nbgrader generate_feedback`, `nbgrader export` and
the formgrader's API show our grades. A grader's manual score survives a regrade and goes back to the
grading queue, the submission's timestamp is recorded, and nbgrader's late penalty applies. Our Canvas
export is also one of nbgrader's export plugins."""
import csv
import datetime
import json
import os
import re
import subprocess
import sys

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from autograder import course
from conftest import course_copy, edited, run_cli

DUE = datetime.datetime(2026, 11, 1, 17, 0)
# what a student's notebook could show in the formgrader, the instructor's browser, if it ran there
ACTIVE = {
    "code": "from IPython.display import HTML, Javascript, display\n"
            "display(HTML(\"<b>bold</b><script>alert('html')</script>\"))\ndisplay(Javascript(\"alert('js')\"))",
    "markdown": "My answer: <img src=x onerror=\"alert('markdown')\">",
}


def _submit(folder, student, nb, handed_in):
    """`nb` in nbgrader's submitted/ layout, with the timestamp.txt its exchange writes."""
    path = folder / student / "backprop" / "backprop.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(nbformat.writes(nb))
    (path.parent / "timestamp.txt").write_text(handed_in)


def _with_active_content(nb):
    nb.cells.append(nbformat.v4.new_code_cell(ACTIVE["code"]))
    nb.cells.append(nbformat.v4.new_markdown_cell(ACTIVE["markdown"]))


def _nbgrader(root, *args):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _test_cell_output(nb, grade_id):
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "".join(output["text"] for output in cell.outputs)


def test_nbgraders_own_tools_show_our_grades_keep_manual_ones_and_apply_late_penalties(tmp_path):
    root = course_copy(tmp_path / "course")
    with open(root / "nbgrader_config.py", "a") as config:
        config.write('c.LateSubmissionPlugin.penalty_method = "zero"\n')
    backprop = course.load(root, "backprop")
    submitted = root / "submitted"
    _submit(submitted, "late", edited(backprop), "2026-11-02 09:30:00.000000 UTC")
    _submit(submitted, "ontime", edited(backprop, {"forward": "def forward(params, X):\n    return None, None\n"},
                                        change=_with_active_content), "2026-11-01 16:59:00.000000 UTC")
    _submit(submitted, "garbled", edited(backprop), "next tuesday, probably")
    db_url = f"sqlite:///{root / 'gradebook.db'}"  # the course's own: `grade` is given no --db
    env = {name: value for name, value in os.environ.items() if name not in ("AUTOGRADER_DB_URL", "AUTOGRADER_COURSE")}

    def grade(*extra):
        done = run_cli("grade", "backprop", "--submissions", "submitted", "--output", str(tmp_path / "out"), *extra,
                       cwd=root, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    with Gradebook(db_url, "nlp-course") as gb:
        gb.update_or_create_assignment("backprop", duedate=DUE)
    first = grade()
    assert "garbled/backprop/timestamp.txt" in first.stdout
    with Gradebook(db_url, "nlp-course") as gb:
        sigmoid = gb.find_grade("test_sigmoid", "backprop", "backprop", "ontime")
        assert sigmoid.auto_score == sigmoid.max_score and not sigmoid.needs_manual_grade
        sigmoid.manual_score = 1
        gb.db.commit()
    grade("--force")

    with Gradebook(db_url, "nlp-course") as gb:
        kept = gb.find_grade("test_sigmoid", "backprop", "backprop", "ontime")
        assert kept.manual_score == 1 and kept.needs_manual_grade  # back in the grading queue, as SaveAutoGrades does
        assert kept.auto_score == kept.max_score
        assert gb.find_grade("test_forward", "backprop", "backprop", "ontime").auto_score == 0
        late = gb.find_submission("backprop", "late")
        assert late.timestamp == datetime.datetime(2026, 11, 2, 9, 30) and late.total_seconds_late == 16.5 * 3600
        assert gb.find_submission_notebook("backprop", "backprop", "late").late_submission_penalty == 100
        assert gb.find_submission("backprop", "ontime").total_seconds_late == 0
        assert gb.find_submission("backprop", "garbled").timestamp is None
        assert gb.find_assignment("backprop").course_id == "nlp-course"

    late = json.loads((tmp_path / "out" / "late" / "result.json").read_text())
    assert late["timestamp"] == "2026-11-02T09:30:00" and late["late_penalty"] == 100
    assert late["message"] == "handed in 16.5 h after the due date: late penalty 100 points (nbgrader)"
    garbled = json.loads((tmp_path / "out" / "garbled" / "result.json").read_text())
    assert garbled["timestamp"] is None and garbled["score"] == 100
    assert garbled["message"] == ("garbled/backprop/timestamp.txt is not a time nbgrader reads (ParserError), "
                                  "so no late penalty applies")

    # the autograded notebooks: the student's outputs, the judge's verdict in each test cell, nothing active
    ontime = json.loads((tmp_path / "out" / "ontime" / "result.json").read_text())
    forward_checks = [c for c in ontime["checks"] if c["grade_id"] == "test_forward"]
    autograded = root / "autograded" / "ontime" / "backprop"
    nb = nbformat.read(autograded / "backprop.ipynb", as_version=4)
    verdict = _test_cell_output(nb, "test_forward")
    assert verdict.startswith("autograder: 0 of 12 points\n")
    assert all(f"{check['name']} (0/" in verdict and check["message"] in verdict for check in forward_checks)
    assert _test_cell_output(nb, "test_sigmoid").startswith("autograder: 8 of 8 points\n")
    shown = json.dumps([c.get("outputs", []) for c in nb.cells]) + "".join(
        c.source for c in nb.cells if c.cell_type == "markdown")  # what the formgrader renders; code stays code
    assert "<script" not in shown and "application/javascript" not in shown
    assert not re.search(r"<img[^>]*onerror", shown)
    assert "<b>bold</b>" in shown and "&lt;img" in shown  # harmless markup stays; the rest shows as text
    assert (autograded / "timestamp.txt").read_text() == "2026-11-01 16:59:00.000000 UTC"
    assert not (root / "autograded" / "garbled" / "backprop" / "timestamp.txt").exists()

    _nbgrader(root, "generate_feedback", "backprop")
    feedback = (root / "feedback" / "ontime" / "backprop" / "backprop.html").read_text()
    assert "autograder: 0 of 12 points" in feedback and forward_checks[0]["message"].split("\n")[0][:40] in feedback
    assert not re.search(r"<script[^>]*>[^<]*alert\(", feedback)  # the code shows, highlighted, and never runs
    assert not re.search(r"<img[^>]*onerror", feedback)

    (submitted / "garbled" / "backprop" / "timestamp.txt").unlink()  # nbgrader's API stops at a time it cannot read
    api = NbGraderAPI(coursedir=CourseDirectory(config=backprop.nbgrader_config))
    assert api.get_autograded_students("backprop") == {"late", "ontime", "garbled"}
    shown = {row["student"]: row for row in api.get_submissions("backprop")}
    assert shown["ontime"]["autograded"] and shown["ontime"]["score"] == ontime["score"] - 8 + 1
    assert shown["late"]["autograded"] and shown["garbled"]["autograded"]

    export = tmp_path / "grades.csv"
    _nbgrader(root, "export", f"--to={export}")
    rows = {row["student_id"]: row for row in csv.DictReader(open(export))}
    assert float(rows["late"]["late_submission_penalty"]) == 100 and float(rows["late"]["score"]) == 0
    assert float(rows["ontime"]["late_submission_penalty"]) == 0
    assert float(rows["ontime"]["score"]) == ontime["score"] - 8 + 1
    # our Canvas import as nbgrader's own export plugin: the gradebook's scores, less the late penalty
    canvas = tmp_path / "canvas.csv"
    _nbgrader(root, "export", "--exporter=autograder.exports.CanvasExportPlugin", f"--to={canvas}")
    header, possible, *students = csv.reader(open(canvas))
    assert header[-1] == "backprop" and float(possible[-1]) == 100
    assert {row[3]: float(row[-1]) for row in students} == {"late": 0, "ontime": ontime["score"] - 8 + 1,
                                                            "garbled": 100}
