"""selfcheck, release and check through the real CLI."""

import nbformat
import pytest

from autograder import course, release, samples
from conftest import ROOT, course_copy, run_cli, write_notebook


def test_selfcheck_reference_full_blank_zero_release_current():
    done = run_cli("selfcheck", "backprop")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "100/100" in done.stdout and "0/100" in done.stdout and "up to date" in done.stdout


@pytest.mark.parametrize("assignment_id", course.assignment_ids(ROOT))
def test_every_release_is_current(assignment_id, tmp_path):
    """What selfcheck adds to each assignment's sample tests, which grade its reference (100) and blank (0)."""
    assignment = course.load(ROOT, assignment_id)
    assert release.stale_files(assignment, f"sqlite:///{tmp_path / 'gradebook.db'}") == []


def test_a_stale_release_is_detected_and_release_fixes_it(tmp_path):
    course_copy(tmp_path)
    source = tmp_path / "assignments" / "backprop" / "backprop.ipynb"
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].source += "\n\nA new sentence from the instructor."
    nbformat.write(nb, source)
    assignment = course.load(tmp_path, "backprop")
    assert release.stale_files(assignment, f"sqlite:///{tmp_path / 'a.db'}") == ["backprop.ipynb"]
    done = run_cli("release", "backprop", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "A new sentence from the instructor." in (tmp_path / "release/backprop/backprop.ipynb").read_text()
    assert release.stale_files(assignment, f"sqlite:///{tmp_path / 'b.db'}") == []


def test_check_reports_visible_checks_to_the_student(backprop, tmp_path):
    good = write_notebook(tmp_path / "good", "me", samples.submission(backprop, {}))
    blank = write_notebook(tmp_path / "blank", "me", samples.submission(backprop, None))
    passed, failed = run_cli("check", str(good)), run_cli("check", str(blank))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.count("passed") >= 9
    assert failed.returncode == 1 and "NotImplementedError" in failed.stdout


def test_check_names_a_file_that_is_not_a_notebook(tmp_path):
    path = tmp_path / "backprop.ipynb"
    path.write_text("not json")
    done = run_cli("check", str(path))
    assert done.returncode == 2 and "backprop.ipynb is not valid JSON" in done.stdout


def test_unknown_assignment_is_a_clear_error(tmp_path):
    done = run_cli("grade", "nope", "--submissions", str(tmp_path), "--output", str(tmp_path / "o"))
    assert done.returncode == 2 and "no assignment 'nope'" in done.stdout and "Traceback" not in done.stderr
