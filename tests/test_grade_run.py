"""How a `grade` run behaves as a command: its pool, its output, its exit status, its gradebook set-up."""
import os
from importlib import metadata

import nbformat
from nbgrader.api import Gradebook

from autograder import course, gradebook, release, report
from conftest import course_copy, edited, run_cli, write_notebook

REFRESHED = "recorded backprop's current notebook in the gradebook"
CURRENT = "the gradebook already holds backprop's current notebook"


def test_version():
    done = run_cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"autograder {metadata.version('autograder')}"


def test_default_pool_progress_lines_and_fail_on(backprop, tmp_path):
    """By default every core grades; each submission gets a counted line, -q keeps only the summary,
    and --fail-on turns chosen statuses into exit status 1 (and nothing else does)."""
    submissions, output = tmp_path / "in", tmp_path / "out"
    write_notebook(submissions, "alice", edited(backprop))
    (submissions / "broken").mkdir()
    (submissions / "broken" / "backprop.ipynb").write_text("{")
    done = run_cli("grade", "backprop", "--submissions", str(submissions), "--output", str(output),
                   "--fail-on", "invalid-notebook,timeout")
    assert done.returncode == 1, done.stdout + done.stderr
    workers = len(os.sched_getaffinity(0))
    assert f"grading backprop on {workers} local worker{'s' * (workers != 1)} on CPU" in done.stdout
    assert "[1/2] broken: 0/100 invalid-notebook" in done.stdout
    assert "[2/2] alice: 100/100 graded" in done.stdout
    assert "--fail-on invalid-notebook,timeout: 1 results: broken" in done.stdout
    assert "absl" not in done.stdout + done.stderr and "oneDNN" not in done.stdout + done.stderr
    rows = report.read_grades(output / "grades.csv")

    quiet = run_cli("grade", "backprop", "--submissions", str(submissions), "--output", str(output), "-q",
                    "--force", "--workers", "1", "--fail-on", "grader-error", "--log-file", str(tmp_path / "log"))
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "[2/2]" not in quiet.stdout and "2 submissions in" in quiet.stdout
    log = (tmp_path / "log").read_text()
    assert "[2/2] alice: 100/100 graded" in log
    assert "matplotlib" not in log  # alice's feedback has a figure: its fonts were found without a word
    assert report.read_grades(output / "grades.csv") == rows


def test_fail_on_names_an_unknown_status(tmp_path):
    done = run_cli("grade", "backprop", "--submissions", str(tmp_path), "--output", str(tmp_path / "out"),
                   "--fail-on", "graded,gone")
    assert done.returncode == 2 and "unknown status gone" in done.stderr and "Traceback" not in done.stderr


def test_the_gradebook_is_refreshed_only_when_the_source_notebook_changed(tmp_path):
    root = course_copy(tmp_path / "course")
    (tmp_path / "none").mkdir()
    db = tmp_path / "gradebook.db"

    def grade():
        done = run_cli("grade", "backprop", "--submissions", str(tmp_path / "none"), "--output",
                       str(tmp_path / "out"), "--db", f"sqlite:///{db}", "-v", cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    first, second = grade(), grade()
    assert REFRESHED in first and CURRENT in second and REFRESHED not in second
    source = root / "assignments" / "backprop" / "backprop.ipynb"
    nb = nbformat.read(source, as_version=4)
    test_cell = next(cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_sigmoid")
    test_cell.source += "\n# a visible test the instructor added"
    nbformat.write(nb, source)
    assignment = course.load(root, "backprop")
    assert gradebook.recorded_checksums(assignment, f"sqlite:///{db}") != release.cell_checksums(assignment)
    assert REFRESHED in grade()
    assert gradebook.recorded_checksums(assignment, f"sqlite:///{db}") == release.cell_checksums(assignment)
    with Gradebook(f"sqlite:///{db}") as gb:
        source_cell = gb.find_source_cell("test_sigmoid", "backprop", "backprop")
        assert source_cell.source.endswith("# a visible test the instructor added")


def test_a_course_whose_autograded_folder_cannot_be_written_still_gets_every_grade(backprop, tmp_path):
    root = course_copy(tmp_path / "course")
    (root / "autograded").write_text("a file where nbgrader's autograded/ folder belongs")
    write_notebook(tmp_path / "in", "alice", edited(backprop))
    write_notebook(tmp_path / "in", "bob", edited(backprop, {"sigmoid": "def sigmoid(x):\n    return x\n"}))
    done = run_cli("grade", "backprop", "--submissions", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                   "--db", f"sqlite:///{tmp_path / 'gradebook.db'}", "--log-file", str(tmp_path / "log"), cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "log").read_text().count("could not write the autograded notebook") == 2
    scores = {row["student_id"]: float(row["score"]) for row in report.read_grades(tmp_path / "out" / "grades.csv")}
    assert scores["alice"] == 100 and scores["bob"] < 100
