"""Shared fixtures: the real course, the real CLI, and one grading run over many submissions."""
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder import course, samples
from autograder.sandbox import UID_BASE

ROOT = Path(__file__).resolve().parents[1]
# The suite's own course secret (docs/design.md: questions come from a secret students never see), fixed so
# that a failure reproduces; tests that need another secret pass it to run_cli themselves.
os.environ["AUTOGRADER_SECRET"] = "the test suite's own course secret"


def run_cli(*args, cwd=ROOT, timeout=600, env=None):
    """Run the real `autograder` command; return the finished process."""
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def run_cli_measured(*args, env=None):
    """run_cli, and the peak memory in MB of the largest process of the command's whole tree."""
    report = "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); " \
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, file=sys.stderr); sys.exit(code)"
    done = subprocess.run([sys.executable, "-c", report, sys.executable, "-m", "autograder", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800, env=env)
    *stderr, peak = done.stderr.rstrip("\n").split("\n")
    done.stderr = "\n".join(stderr)
    return done, int(peak)


@contextmanager
def every_core_busy():
    """A busy loop on every core for the duration, as another job on a shared CI machine would run."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def course_copy(folder):
    """A copy of the course in `folder`, for a test that edits it."""
    for name in ("assignments", "reference", "release"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    return folder


def _status(pid):
    """{field: value} of /proc/<pid>/status, or {} for a process that is gone."""
    try:
        return dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except (OSError, ValueError):
        return {}


def orphaned_sandbox_processes():
    """Sandboxed processes (a sandbox uid) whose grader is gone: above them only sandbox processes and
    bubblewrap, up to init or a reaper. A grader still running on the machine (another run) keeps its own."""
    orphans = []
    for status in Path("/proc").glob("[0-9]*/status"):
        info = _status(status.parent.name)
        if int(info.get("Uid", "0").split()[0]) < UID_BASE:
            continue
        pid = status.parent.name
        while (info := _status(pid)) and (int(info["Uid"].split()[0]) >= UID_BASE or info["Name"] == "bwrap"):
            pid = info["PPid"]
        if info and (pid in ("0", "1") or b"python" not in Path(f"/proc/{pid}/cmdline").read_bytes()):
            orphans.append(status.parent.name)
    return orphans


def orphans_left(patience=30):
    """orphaned_sandbox_processes() once they are gone, or after `patience` seconds: a kernel killed with its
    grader takes a moment to go on a busy machine."""
    deadline = time.monotonic() + patience
    while (orphans := orphaned_sandbox_processes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return orphans


SCREENSHOTS = ROOT / "test-output"


def chromium(*args):
    """Run headless Chromium (Debian's `chromium`: `make test` installs it where it can)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("headless Chromium is missing: apt-get install chromium")
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120)


def hidden_lines(assignment_id):
    """Lines of the hidden checks long enough to mean something if a page showed them."""
    source = (ROOT / "reference" / f"{assignment_id}_checks.py").read_text()
    return [line.strip() for line in source.splitlines() if len(line.strip()) > 25]


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / name
    done = chromium("--window-size=1100,1600", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def rendered(page):
    """The page's DOM once Chromium has loaded it, which must raise no script error."""
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0 and "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    return dom.stdout


def lost(result):
    """The checks of a result that did not earn all their points."""
    return [c for c in result["checks"] if c["points"] < c["max_points"]]


class Graded(dict):
    """{student: result} of one grading run, and the folder it wrote (`output`)."""

    def __init__(self, output):
        super().__init__((path.parent.name, json.loads(path.read_text())) for path in output.glob("*/result.json"))
        self.output = output


def grade_samples(assignment_id, base, extra=None, options=()):
    """Grade an assignment's samples, plus `extra` {student: edits of the reference}, through the real CLI
    with `options` added to `autograder grade`. Returns their Graded results.
    """
    assignment = course.load(ROOT, assignment_id)
    submissions, output = base / "submissions", base / "out"
    samples.write_samples(assignment, submissions)
    for student, edits in (extra or {}).items():
        samples.write_submission(submissions, student, assignment.notebook_id, samples.submission(assignment, edits))
    done = run_cli("grade", assignment_id, "--submissions", str(submissions), "--output", str(output),
                   "--workers", "2", *options, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    return Graded(output)


@pytest.fixture(scope="session")
def backprop():
    return course.load(ROOT, "backprop")


def write_notebook(folder, student, nb):
    return samples.write_submission(folder, student, "backprop", nb)


def edited(assignment, edits=None, change=None):
    """A reference submission with solution cells replaced by `edits` and `change(nb)` applied."""
    nb = samples.submission(assignment, edits or {})
    if change:
        change(nb)
    return nb


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _bad_inputs(assignment, folder):
    ref = assignment.reference_sources
    (folder / "bad_json").mkdir()
    (folder / "bad_json" / "backprop.ipynb").write_text('{"cells": [')
    (folder / "empty").mkdir()
    (folder / "empty" / "backprop.ipynb").write_text("")
    (folder / "v3").mkdir()
    (folder / "v3" / "backprop.ipynb").write_text(json.dumps(
        {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}))
    (folder / "no_notebook").mkdir()
    write_notebook(folder, "no_backward", edited(assignment, change=lambda nb: nb.cells.remove(cell(nb, "backward"))))

    def tamper(nb):
        cell(nb, "test_sigmoid").source = "assert True"
        cell(nb, "imports").source = "import numpy as np\nnp.allclose = lambda *a, **k: True"
        nb.cells.remove(cell(nb, "test_train"))
        cell(nb, "test_backward").metadata.nbgrader["points"] = 1000
    write_notebook(folder, "tampered", edited(assignment, change=tamper))
    write_notebook(folder, "raises", edited(assignment, {
        "numerical_gradient": 'raise ValueError("unfinished")\n' + ref["numerical_gradient"]}))
    write_notebook(folder, "dies", edited(assignment, {"sgd_update": "import os\nos._exit(3)\n"}))
    write_notebook(folder, "loops", edited(assignment, {"sgd_update": "while True:\n    pass\n" + ref["sgd_update"]}))
    write_notebook(folder, "uses_autograd", edited(assignment, {  # autograd is not installed: fails fast
        "backward": samples.replaced(ref["backward"], "    X, H, Y_hat = cache\n",
                                     "    import autograd.numpy as anp\n    X, H, Y_hat = cache\n")}))


@pytest.fixture(scope="session")
def graded(backprop, tmp_path_factory):
    """One `autograder grade` run over the samples and every kind of bad input."""
    base = tmp_path_factory.mktemp("grade")
    submissions = base / "submissions"
    samples.write_samples(backprop, submissions)
    _bad_inputs(backprop, submissions)
    output = base / "out"
    done = run_cli("grade", "backprop", "--submissions", str(submissions), "--output", str(output),
                   "--workers", "2", "--cell-timeout", "5", "--db", f"sqlite:///{base / 'gradebook.db'}")
    assert done.returncode == 0, done.stdout + done.stderr
    results = {path.parent.name: json.loads(path.read_text()) for path in output.glob("*/result.json")}
    return {"submissions": submissions, "output": output, "results": results, "stdout": done.stdout,
            "db_url": f"sqlite:///{base / 'gradebook.db'}"}
