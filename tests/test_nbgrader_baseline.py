"""The baseline we beat: plain `nbgrader autograde` gives the monkeypatching submission full marks."""
import subprocess
import sys

from nbgrader.api import Gradebook

from autograder import gradebook, samples
from conftest import ROOT, write_notebook


def test_plain_nbgrader_autograde_is_fooled_by_monkeypatching(backprop, tmp_path, graded):
    edits = backprop.hidden_module("backprop_samples").samples(backprop.reference_sources)["mallory"]
    write_notebook(tmp_path / "submitted" / "mallory", "backprop", samples.submission(backprop, edits))
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    gradebook.prepare(backprop, db_url)
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "backprop", f"--db={db_url}",
         f"--CourseDirectory.submitted_directory={tmp_path / 'submitted'}",
         f"--CourseDirectory.autograded_directory={tmp_path / 'autograded'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with Gradebook(db_url) as gb:
        assert gb.find_submission("backprop", "mallory").score == 100
    assert graded["results"]["mallory"]["score"] < 100
