"""End to end through the real CLI: scores, named errors, the trust split, nothing lost."""
import csv
import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import ROOT, every_core_busy, lost, run_cli


def test_every_submission_gets_one_row_and_one_result(graded):
    students = sorted(p.name for p in graded["submissions"].iterdir())
    with open(graded["output"] / "grades.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["student_id"] for row in rows] == students
    assert sorted(graded["results"]) == students
    assert all((graded["output"] / s / "feedback.html").is_file() for s in students)


def test_reference_earns_full_marks_and_blank_zero(graded):
    alice, carol = graded["results"]["alice"], graded["results"]["carol"]
    assert (alice["score"], alice["status"], lost(alice)) == (100, "graded", [])
    assert carol["score"] == 0 and all("NotImplementedError" in c["message"] for c in carol["checks"])


def test_one_bug_in_backward_loses_only_checks_that_exercise_backward(graded):
    bob = graded["results"]["bob"]
    assert {c["name"] for c in lost(bob)} >= {"backward_matches_reference", "backward_passes_gradient_check"}
    assert all("backward" in c["functions"] for c in lost(bob))
    assert all(c["points"] == c["max_points"] for c in bob["checks"] if "backward" not in c["functions"])


def test_monkeypatching_numpy_earns_nothing_for_the_wrong_function(graded):
    mallory = graded["results"]["mallory"]
    backward_checks = [c for c in mallory["checks"] if c["grade_id"] == "test_backward"]
    assert backward_checks and all(c["points"] == 0 for c in backward_checks)
    assert mallory["score"] == 100 - sum(c["max_points"] for c in backward_checks)


def test_an_object_whose_eq_always_returns_true_earns_nothing(graded):
    eve = graded["results"]["eve"]
    assert {c["grade_id"] for c in lost(eve)} >= {"test_mse_loss"}
    assert all("mse_loss" in c["functions"] and c["points"] == 0 for c in lost(eve))


@pytest.mark.parametrize("student, status, fragment", [
    ("bad_json", "invalid-notebook", "not valid JSON"),
    ("empty", "invalid-notebook", "is empty"),
    ("v3", "invalid-notebook", "nbformat 3"),
    ("no_notebook", "invalid-notebook", "no backprop.ipynb"),
    ("loops", "timeout", "cell 'sgd_update' ran past 5 s"),
    ("dies", "kernel-died", "cell 'sgd_update': the kernel died"),
    ("uses_autograd", "policy", "backward uses autograd"),
    ("raises", "graded", "cell 'numerical_gradient' raised ValueError: unfinished"),
])
def test_bad_input_gets_a_named_status_and_message(graded, student, status, fragment):
    result = graded["results"][student]
    assert result["status"] == status
    assert fragment in result["message"]


@pytest.mark.parametrize("student, function", [
    ("loops", "sgd_update"), ("uses_autograd", "backward"), ("raises", "numerical_gradient"),
    ("no_backward", "backward")])
def test_a_broken_function_costs_only_the_checks_that_use_it(graded, student, function):
    result = graded["results"][student]
    assert lost(result) and all(function in c["functions"] and c["points"] == 0 for c in lost(result))


def test_missing_function_is_named(graded):
    missed = lost(graded["results"]["no_backward"])
    assert {c["message"] for c in missed if c["grade_id"] == "test_backward"} == {
        "backward is not defined in the notebook"}
    assert all("'backward' is not defined" in c["message"] for c in missed if c["grade_id"] != "test_backward")


def test_edited_deleted_and_repointed_test_cells_are_restored(graded):
    tampered = graded["results"]["tampered"]
    assert (tampered["score"], tampered["max_score"], tampered["status"]) == (100, 100, "graded")


def test_feedback_never_shows_hidden_check_code_or_expected_values(graded, backprop):
    page = (graded["output"] / "bob" / "feedback.html").read_text()
    assert "backward_matches_reference" in page
    checks = backprop.hidden_module("backprop_checks")
    for line in inspect.getsource(checks).splitlines():
        if len(line.strip()) > 30:
            assert line.strip() not in page
    ref, params = backprop.reference, checks.WORKED_PARAMS
    expected = ref.backward(params, ref.forward(params, checks.WORKED_X)[1], checks.WORKED_Y)
    assert f"{expected['W1'][0, 0]:.6f}"[:-1] not in page


def test_regrading_on_one_worker_with_every_core_busy_gives_the_same_checks_and_resume_skips_finished(
        graded, tmp_path):
    """The same verdicts on a loaded machine, the `loops` sample's timeout included (limits are on CPU
    time), for a sample of the submissions: correct, looping, dying, tampered and unreadable."""
    students = ["alice", "loops", "dies", "tampered", "bad_json"]
    for student in students:
        shutil.copytree(graded["submissions"] / student, tmp_path / "in" / student)
    output = tmp_path / "out"
    with every_core_busy():
        again = run_cli("grade", "backprop", "--submissions", str(tmp_path / "in"), "--output",
                        str(output), "--workers", "1", "--cell-timeout", "5")
    assert again.returncode == 0, again.stderr
    for student in students:
        assert json.loads((output / student / "result.json").read_text())["checks"] == \
            graded["results"][student]["checks"], student
    stamp = (output / "alice" / "result.json").stat().st_mtime_ns
    resumed = run_cli("grade", "backprop", "--submissions", str(tmp_path / "in"), "--output", str(output))
    assert resumed.returncode == 0 and (output / "alice" / "result.json").stat().st_mtime_ns == stamp


def test_scores_land_in_the_gradebook_and_nbgrader_export_still_works(graded, tmp_path):
    db_url = graded["db_url"]
    with Gradebook(db_url) as gb:
        assert gb.find_submission("backprop", "bob").score == graded["results"]["bob"]["score"]
        assert gb.find_submission("backprop", "alice").score == 100
        # the formgrader's comments: the judge's message on the function that lost points, as SaveAutoGrades
        # would say of a solution left blank
        lost = [c for c in graded["results"]["bob"]["checks"] if c["points"] < c["max_points"]]
        assert gb.find_comment("backward", "backprop", "backprop", "bob").auto_comment == "\n".join(
            f"{c['name']}: {c['message']}" for c in lost if "backward" in c["functions"])
        assert gb.find_comment("sigmoid", "backprop", "backprop", "bob").auto_comment is None
        assert gb.find_comment("sigmoid", "backprop", "backprop", "carol").auto_comment == "No response."
    export = tmp_path / "export.csv"
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--db={db_url}", f"--to={export}"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = {row["student_id"]: row for row in csv.DictReader(open(export))}
    assert float(rows["mallory"]["score"]) == graded["results"]["mallory"]["score"]


def test_without_bubblewrap_grade_stops_and_names_the_options(tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no /usr/bin: no bwrap
    done = run_cli("grade", "backprop", "--submissions", str(tmp_path), "--output", str(tmp_path / "out"), env=env)
    assert done.returncode == 2
    assert "bubblewrap cannot confine" in done.stdout and "apt-get install bubblewrap" in done.stdout
    assert "--unsafe-no-sandbox" in done.stdout and "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
