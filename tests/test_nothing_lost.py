"""A grading run killed half-way loses nothing: the rerun keeps what finished and grades the rest once."""
import csv
import os
import signal
import subprocess
import sys
import time

from nbgrader.api import Gradebook

from conftest import ROOT, edited, orphans_left, run_cli, write_notebook

STUDENTS = ["s1", "s2", "s3", "s4"]


def test_a_killed_run_resumes_without_regrading_or_duplicates(backprop, tmp_path):
    for student in STUDENTS:
        write_notebook(tmp_path / "in", student, edited(backprop))
    out, db_url = tmp_path / "out", f"sqlite:///{tmp_path / 'gradebook.db'}"
    command = [sys.executable, "-m", "autograder", "grade", "backprop", "--submissions", str(tmp_path / "in"),
               "--output", str(out), "--workers", "1", "--db", db_url]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    deadline = time.monotonic() + 180
    while not list(out.glob("*/result.json")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert orphans_left() == []  # its kernels died with it, even one it was starting
    finished = {path.parent.name: path.stat().st_mtime_ns for path in out.glob("*/result.json")}
    assert finished and len(finished) < len(STUDENTS), "the run was not interrupted half-way"
    assert not (out / "grades.csv").exists()

    rerun = run_cli("grade", "backprop", "--submissions", str(tmp_path / "in"), "--output", str(out), "--db", db_url)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert {name: (out / name / "result.json").stat().st_mtime_ns for name in finished} == finished
    with open(out / "grades.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [(row["student_id"], row["score"]) for row in rows] == [(s, "100") for s in STUDENTS]
    with Gradebook(db_url) as gradebook:
        submissions = gradebook.find_assignment("backprop").submissions
        assert sorted(s.student.id for s in submissions) == STUDENTS
        assert all(s.score == 100 for s in submissions)
