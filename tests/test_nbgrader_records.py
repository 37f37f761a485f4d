"""The gradebook as nbgrader's own autograde leaves it: a grader's manual score survives a regrade and
goes back to the grading queue, the submission's timestamp is recorded, and nbgrader's late penalty
(the course's LateSubmissionPlugin) applies, so `nbgrader export` shows it."""
import csv
import datetime
import json
import os
import subprocess
import sys

import nbformat
from nbgrader.api import Gradebook

from autograder import course
from conftest import course_copy, edited, run_cli

DUE = datetime.datetime(2026, 11, 1, 17, 0)


def _submit(folder, student, nb, handed_in):
    """`nb` in nbgrader's submitted/ layout, with the timestamp.txt its exchange writes."""
    path = folder / student / "backprop" / "backprop.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(nb)
    (path.parent / "timestamp.txt").write_text(handed_in)


def test_a_manual_grade_survives_a_regrade_and_a_late_submission_gets_nbgraders_penalty(tmp_path):
    root = course_copy(tmp_path / "course")
    with open(root / "nbgrader_config.py", "a") as config:
        config.write('c.LateSubmissionPlugin.penalty_method = "zero"\n')
    backprop = course.load(root, "backprop")
    reference = nbformat.writes(edited(backprop))
    submitted = tmp_path / "submitted"
    _submit(submitted, "late", reference, "2026-11-02 09:30:00.000000 UTC")
    _submit(submitted, "ontime", reference, "2026-11-01 16:59:00.000000 UTC")
    _submit(submitted, "garbled", reference, "next tuesday, probably")
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    env = {**os.environ, "AUTOGRADER_COURSE": str(root)}

    def grade(*extra):
        done = run_cli("grade", "backprop", "--submissions", str(submitted), "--output", str(tmp_path / "out"),
                       "--db", db_url, *extra, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    with Gradebook(db_url, "nlp-course") as gb:
        gb.update_or_create_assignment("backprop", duedate=DUE)
    first = grade()
    assert "garbled/backprop/timestamp.txt" in first.stdout
    with Gradebook(db_url, "nlp-course") as gb:
        forward = gb.find_grade("test_forward", "backprop", "backprop", "ontime")
        assert forward.auto_score == forward.max_score and not forward.needs_manual_grade
        forward.manual_score = 1
        gb.db.commit()
    grade("--force")

    with Gradebook(db_url, "nlp-course") as gb:
        kept = gb.find_grade("test_forward", "backprop", "backprop", "ontime")
        assert kept.manual_score == 1 and kept.needs_manual_grade  # back in the grading queue, as SaveAutoGrades does
        assert kept.auto_score == kept.max_score
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

    export = tmp_path / "grades.csv"
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--db={db_url}", f"--to={export}"],
                          cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = {row["student_id"]: row for row in csv.DictReader(open(export))}
    assert float(rows["late"]["late_submission_penalty"]) == 100 and float(rows["late"]["score"]) == 0
    assert float(rows["ontime"]["late_submission_penalty"]) == 0
