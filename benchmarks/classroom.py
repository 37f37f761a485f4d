"""What the whole-command benchmarks share: a class of reference submissions on disk, and the
commands that grade it (plain `nbgrader autograde`, the `autograder` CLI), run from the course root."""
import os
import subprocess
import sys
import time
from pathlib import Path

from autograder import grading, questions, samples

ROOT = Path(__file__).resolve().parents[1]
# The commands' course secret: the caller's, else one of this process's own, so that a benchmark leaves no secret
# file in the course and all its commands ask the same questions (the reference earns full marks on any).
SECRET = os.environ.get(questions.SECRET_VARIABLE) or questions.fresh_secret().hex()


def write_class(assignment, folder, copies):
    """`copies` reference (full-marks) submissions in nbgrader's layout, `folder/<student>/<id>/<id>.ipynb`
    with the assignment's released data beside each: what `nbgrader autograde` reads, and `autograder
    grade` too. Returns the student ids."""
    nb = samples.submission(assignment, {})
    students = [f"student{number:02d}" for number in range(1, copies + 1)]
    for student in students:
        path = Path(folder) / student / assignment.id
        path.mkdir(parents=True)
        grading._stage(assignment, nb, path)  # the notebook and the data, as a grading kernel's folder gets them
    return students


def nbgrader_autograde(assignment_id, db_url, submitted, autograded):
    """The command of plain `nbgrader autograde` over every student in `submitted`."""
    return [sys.executable, "-m", "nbgrader", "autograde", assignment_id, "--force", f"--db={db_url}",
            f"--CourseDirectory.submitted_directory={submitted}",
            f"--CourseDirectory.autograded_directory={autograded}"]


def autograder_grade(assignment_id, submissions, output, *options):
    """The command of `autograder grade` (this checkout's, run from the course root)."""
    return [sys.executable, "-m", "autograder", "grade", assignment_id, "--submissions", str(submissions),
            "--output", str(output), *options]


def run(command):
    """Run `command` from the course root; return (seconds, the finished process). Never raises on failure."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, questions.SECRET_VARIABLE: SECRET})
    return time.perf_counter() - started, done


def timed(command):
    """Seconds `command` took; RuntimeError, with the end of its output, when it fails."""
    seconds, done = run(command)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[2:5])} exited with status {done.returncode}:\n"
                           f"{(done.stdout + done.stderr)[-3000:]}")
    return seconds
