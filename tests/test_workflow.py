"""The CI template .github/workflows/grade.yml: its inputs never reach a shell script as text, and its
grading step, run as written, grades and leaves every file the upload step names."""
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from autograder import gpus
from conftest import ROOT, course_copy, edited, write_notebook

WORKFLOW = ROOT / ".github" / "workflows" / "grade.yml"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def _job():
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["grade"]


def _step(name):
    return next(step for step in _job()["steps"] if step.get("name") == name)


def _environment(runner):
    """The job's env as GitHub would give it for `runner` on a run with the test's inputs; an
    expression this test does not know fails it, so a changed template gets a changed test."""
    values = {"${{ inputs.assignment }}": "backprop", "${{ inputs.submissions }}": "submissions",
              "${{ inputs.runner }}": runner, "${{ secrets.AUTOGRADER_SECRET }}": "a CI secret",
              "${{ inputs.runner == 'gpu' && '[gpu]' || '' }}": "[gpu]" if runner == "gpu" else "",
              "${{ inputs.runner == 'gpu' && 'jax' || 'tensorflow' }}": "tensorflow"}  # this machine has no JAX
    env = {}
    for name, value in _job()["env"].items():
        assert not EXPRESSION.search(value) or value in values, f"unknown expression in env {name}: {value}"
        env[name] = values.get(value, value)
    return env


def _grade_step(folder, runner):
    env = {**os.environ, **_environment(runner), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(["bash", "-e", "-c", _step("Grade")["run"]], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=900)


def test_no_input_or_secret_is_written_into_a_shell_script():
    scripts = [step["run"] for step in _job()["steps"] if "run" in step]
    assert len(scripts) >= 3 and not any(EXPRESSION.search(script) for script in scripts)


def test_the_grade_step_as_written_grades_and_leaves_what_is_uploaded(backprop, tmp_path):
    folder = course_copy(tmp_path)
    write_notebook(folder / "submissions", "alice", edited(backprop))
    done = _grade_step(folder, "cpu")
    assert done.returncode == 0, done.stdout + done.stderr
    paths = _step("Upload grades, feedback, gradebook and log")["with"]["path"].splitlines()
    for pattern in paths:
        assert list(folder.glob(pattern.strip().replace("${{ env.OUTPUT }}", _environment("cpu")["OUTPUT"]))), pattern
    assert "alice,backprop,100" in (folder / "graded" / "grades.csv").read_text()
    assert "[1/1] alice: 100/100 graded" in (folder / "grade.log").read_text()


def test_the_gpu_runner_step_stops_clearly_on_a_machine_without_a_gpu(tmp_path):
    folder = course_copy(tmp_path)
    (folder / "submissions").mkdir()
    done = _grade_step(folder, "gpu")
    if gpus.visible():
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        assert done.returncode == 2 and "--device gpu: this machine has no NVIDIA GPU" in done.stdout
