"""The hostile suite: attacks through the real CLI with the sandbox on, and what each must come to.

A canary (a file and an environment variable of the grading run, outside the
sandbox) and another student's private note must appear in no output; files
outside the scratch folder stay untouched; a socket listening on the host's
loopback hears nothing. The same attacks run unconfined show the checks can fail.
"""
import csv
import json
import os
import secrets
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder import autograded, report
from autograder.limits import WALL_FACTOR
from conftest import ROOT, edited, orphans_left, run_cli, run_cli_measured, write_notebook
from hostile import HEADER, cases

LIMITS = ["--cell-timeout", "5", "--notebook-timeout", "90", "--limit", "memory_mb=1024",
          "--limit", "processes=64", "--limit", "output_kb=64", "--limit", "disk_mb=128",
          "--limit", "file_size_mb=32"]


class Listener:
    """A TCP server on the host's loopback that records every connection it gets."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.heard = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            connection.settimeout(2)
            try:
                self.heard.append(connection.recv(1 << 16))
            except OSError:
                self.heard.append(b"")
            connection.close()

    def close(self):
        self.server.close()


def _outputs(output, stdout, backprop, students):
    """Every text the run produced: its console output, every file it wrote in `output` and the autograded
    notebooks of `students` in the course, as bytes."""
    texts = {"<console>": stdout.encode()}
    for path in output.rglob("*"):
        if path.is_file():
            texts[str(path.relative_to(output))] = path.read_bytes()
    for student in students:
        path = Path(autograded.folder(backprop, student)) / "backprop.ipynb"
        if path.is_file():  # not for a notebook that could not be read
            texts[f"autograded/{student}"] = path.read_bytes()
    return texts


def _robustness(backprop, folder, target):
    """Submissions that attack the grader's file handling rather than its judge."""
    (folder / "-rf").mkdir()
    (folder / ".hidden").mkdir()
    write_notebook(folder, "symlink_notebook", edited(backprop))
    (folder / "symlink_notebook" / "backprop.ipynb").unlink()
    (folder / "symlink_notebook" / "backprop.ipynb").symlink_to(ROOT / "reference" / "backprop_checks.py")
    (folder / "symlink_folder").symlink_to(target)
    (folder / "nested_link" / "backprop").mkdir(parents=True)
    (folder / "nested_link" / "backprop" / "backprop.ipynb").symlink_to(target / "backprop.ipynb")
    (folder / "garbage").mkdir()
    (folder / "garbage" / "backprop.ipynb").write_bytes(bytes(range(256)) * 100)
    many_outputs = json.loads(nbformat.writes(edited(backprop)))
    many_outputs["cells"][0]["outputs"] = [{}] * 2_100_000  # 8 MB of JSON, millions of objects once parsed
    (folder / "many_outputs").mkdir()
    (folder / "many_outputs" / "backprop.ipynb").write_text(json.dumps(many_outputs))
    for name in ("gradebook.db", "grades.csv", FORMULA):  # files the grader writes; a live spreadsheet formula
        write_notebook(folder, name, edited(backprop))

    def many_cells(nb):
        nb.cells += [nbformat.v4.new_code_cell("") for _ in range(20_000)]

    def big_outputs(nb):
        code = next(c for c in nb.cells if c.cell_type == "code")
        code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * 50_000_000)]

    def duplicate_ids(nb):
        test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_backward")
        copy = nbformat.from_dict(json.loads(json.dumps(test)))
        copy.id, copy.source = "test-backward-copy", "pass"
        copy.metadata.nbgrader["points"] = 500
        nb.cells.insert(nb.cells.index(test), copy)

    def kernelspec(nb):
        nb.metadata.kernelspec = {"name": "bash", "display_name": "Bash", "language": "bash"}

    for name, change in (("many_cells", many_cells), ("big_outputs", big_outputs),
                         ("duplicate_ids", duplicate_ids), ("kernelspec", kernelspec)):
        write_notebook(folder, name, edited(backprop, change=change))


FORMULA = '=HYPERLINK("evil.example","regrade")'
ROBUSTNESS = [
    ("-rf", "invalid-submission", "not a usable student id"),
    ("gradebook.db", "invalid-submission", "gradebook.db is a file the grader writes"),
    ("grades.csv", "invalid-submission", "grades.csv is a file the grader writes"),
    (FORMULA, "invalid-submission", "not a usable student id"),
    (".hidden", "invalid-submission", "not a usable student id"),
    ("symlink_notebook", "invalid-submission", "symlink_notebook/backprop.ipynb is a symbolic link"),
    ("symlink_folder", "invalid-submission", "symlink_folder/ is a symbolic link"),
    ("nested_link", "invalid-submission", "nested_link/backprop/backprop.ipynb is a symbolic link"),
    ("garbage", "invalid-notebook", "not UTF-8"),
    ("many_cells", "invalid-notebook", "20"),
    ("many_outputs", "invalid-notebook", "more than 2000000 JSON elements"),
    ("big_outputs", "graded", ""),
    ("duplicate_ids", "graded", ""),
    ("kernelspec", "graded", ""),
]


@pytest.fixture(scope="module")
def hostile(backprop, tmp_path_factory):
    """One sandboxed `autograder grade` run over every hostile case, with secrets planted around it."""
    base = tmp_path_factory.mktemp("hostile")
    token, note = secrets.token_hex(16), secrets.token_hex(16)
    canary = base / "secret" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text(f"the canary {token}")
    submissions, output = base / "submissions", base / "out"
    listener = Listener()
    paths = {"canary": str(canary), "root": str(ROOT), "output": str(output),
             "submissions": str(submissions), "port": listener.port}
    reference = backprop.reference_sources["numerical_gradient"]
    all_cases = cases(reference, paths)
    write_notebook(submissions, "alice", edited(backprop))
    write_notebook(submissions, "victim", edited(backprop, change=lambda nb: nb.cells.append(
        nbformat.v4.new_markdown_cell(f"My private note: {note}"))))
    for case in all_cases:
        write_notebook(submissions, case.student, edited(backprop, {"numerical_gradient": case.numerical_gradient}))
    _robustness(backprop, submissions, submissions / "victim")
    victim = (submissions / "victim" / "backprop.ipynb").read_bytes()
    env = {**os.environ, "AUTOGRADER_CANARY": token}
    started = time.monotonic()
    done, peak_mb = run_cli_measured("grade", "backprop", "--submissions", str(submissions), "--output", str(output),
                                     "--workers", "2", *LIMITS, env=env)
    listener.close()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = report.read_grades(output / "grades.csv")
    results = {row["student_id"]: report.read_result(output, row["student_id"]) for row in rows}
    return {"cases": {c.student: c for c in all_cases}, "results": results, "rows": rows, "output": output,
            "submissions": submissions, "outputs": _outputs(output, done.stdout + done.stderr, backprop,
                                                            [s for s in results if s != "victim"]),
            "secrets": [token, note, os.environ["AUTOGRADER_SECRET"]],  # the course secret too
            "victim": victim, "listener": listener, "seconds": time.monotonic() - started, "peak_mb": peak_mb}


def test_the_suite_has_at_least_30_attacks(hostile):
    assert len(hostile["cases"]) >= 30


def test_no_process_of_the_grading_tree_grows_past_a_kernels_memory_limit(hostile):
    """Floods of 100 MB frames, witnesses of millions of elements, memory bombs: every process of the
    grading tree, the grader's own included, stays below the kernels' 1024 MB cap (545 MB measured)."""
    assert hostile["peak_mb"] < 1024, hostile["peak_mb"]


def test_every_submission_finishes_within_its_time_limits(hostile):
    """A submission's two kernels run side by side, each within 3 times the 90 s notebook limit of wall clock."""
    for student, result in hostile["results"].items():
        assert result.get("seconds", 0) < WALL_FACTOR * 90 + 60, (student, result["seconds"])


def _checks_from(assignment, function):
    names = [c.name for c in assignment.checks]
    first = next(i for i, c in enumerate(assignment.checks) if function in c.functions)
    return set(names[:first]), set(names[first:])


CASE_NAMES = [c.student for c in cases("", dict.fromkeys(["canary", "root", "output", "submissions", "port"], ""))]


@pytest.mark.parametrize("student", CASE_NAMES)
def test_each_attack_gets_its_exact_outcome(hostile, backprop, student):
    case, result = hostile["cases"][student], hostile["results"][student]
    messages = " ".join([result["message"]] + [c["message"] for c in result["checks"]])
    assert result["status"] in (case.status, case.or_status), messages[:2000]
    attacked = [c for c in result["checks"] if set(case.zero) & set(c["functions"])]
    assert all(c["points"] == 0 for c in attacked), attacked
    if case.intact:
        assert all(c["points"] == c["max_points"] for c in result["checks"] if c not in attacked), messages[:2000]
    if case.kept_before:
        before, after = _checks_from(backprop, case.kept_before)
        points = {c["name"]: (c["points"], c["max_points"]) for c in result["checks"]}
        assert all(points[name][0] == points[name][1] for name in before), points
        assert all(points[name][0] == 0 for name in after), points
    if case.fragment:
        assert case.fragment in messages, messages[:2000]


def test_no_secret_appears_in_any_output(hostile, backprop):
    hidden = Path(backprop.root, "reference", "backprop_checks.py").read_text()
    public = "\n".join(cell.source for cell in nbformat.read(backprop.release_notebook_path, as_version=4).cells)
    markers = [s.encode() for s in hostile["secrets"]]
    markers += [line.strip().encode() for line in hidden.splitlines()
                if len(line.strip()) > 40 and line.strip() not in public]
    for name, data in hostile["outputs"].items():
        leaked = [m for m in markers if m in data]
        assert not leaked, f"{name} contains {leaked[0][:60]!r}"
        if not name.endswith("gradebook.db"):
            assert b"SQLite format 3" not in data, name


def test_nothing_outside_the_scratch_folder_changed(hostile):
    assert not (ROOT / "reference" / "pwned.py").exists()
    assert not Path("/tmp/autograder-pwned.txt").exists()
    assert (hostile["submissions"] / "victim" / "backprop.ipynb").read_bytes() == hostile["victim"]
    assert b"pwned" not in (hostile["output"] / "grades.csv").read_bytes()
    assert hostile["results"]["victim"]["score"] == 100
    assert hostile["results"]["alice"]["score"] == 100


def test_the_network_is_unreachable(hostile):
    assert hostile["listener"].heard == []


def test_every_submission_has_exactly_one_row_and_result(hostile):
    students = sorted(p.name for p in hostile["submissions"].iterdir())
    assert sorted(row["student_id"] for row in hostile["rows"]) == students
    assert len(list(hostile["output"].rglob("result.json"))) == len(students)
    assert all(row["status"] and row["message"] is not None for row in hostile["rows"])


def test_no_cell_of_grades_csv_starts_as_a_formula(hostile):
    with open(hostile["output"] / "grades.csv", newline="") as stream:
        cells = [cell for row in csv.reader(stream) for cell in row]
    assert f"'{FORMULA}" in cells and "'-rf" in cells
    assert not any(cell.startswith(report.FORMULA_START) for cell in cells)


@pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids exist only when the grader runs as root")
def test_no_sandboxed_process_outlives_the_run(hostile):
    assert orphans_left() == []


@pytest.mark.parametrize("student, status, fragment", ROBUSTNESS)
def test_hostile_files_end_as_a_named_status_or_a_fair_score(hostile, student, status, fragment):
    result = hostile["results"][student]
    assert result["status"] == status and fragment in result["message"], result["message"]
    if status == "graded":
        assert float(result["score"]) == 100


def test_the_same_attacks_unconfined_do_leak(backprop, tmp_path):
    """Proof that the checks above can fail: without the sandbox the canary gets out."""
    token, listener = secrets.token_hex(16), Listener()
    canary = tmp_path / "canary.txt"
    canary.write_text(token)
    paths = {"canary": str(canary), "root": str(ROOT), "output": str(tmp_path / "out"),
             "submissions": str(tmp_path / "in"), "port": listener.port}
    chosen = {c.student: c for c in cases("", paths)}
    for name in ("leak_proc_environ", "leak_canary_file", "net_loopback"):
        write_notebook(tmp_path / "in", name, edited(backprop, {"numerical_gradient": chosen[name].numerical_gradient}))
    write_notebook(tmp_path / "in", "kills_worker", edited(backprop, {
        "numerical_gradient": f"import os\nos.kill(os.getppid(), 9)\n\n\n{HEADER}    return x\n"}))
    write_notebook(tmp_path / "in", "alice", edited(backprop))
    done = run_cli("grade", "backprop", "--submissions", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                   "--workers", "2", "--unsafe-no-sandbox", *LIMITS, env={**os.environ, "AUTOGRADER_CANARY": token})
    listener.close()
    assert done.returncode == 0, done.stderr[-3000:]
    results = {p.parent.name: json.loads(p.read_text()) for p in (tmp_path / "out").glob("*/result.json")}
    assert token in json.dumps(results["leak_proc_environ"])
    assert token in json.dumps(results["leak_canary_file"])
    assert listener.heard  # unconfined, the kernel reached the host's loopback
    assert results["kills_worker"]["status"] == "grader-error" and results["alice"]["score"] == 100
    assert all(r["sandbox"] == "none" and r["message"].startswith("UNSANDBOXED") for r in results.values())
    assert "warning: UNSANDBOXED" in done.stdout


def test_cpu_time_limit(backprop, tmp_path):
    burn = ("import time\nend = time.time() + 60\nwhile time.time() < end:\n    pass\n\n\n"
            + backprop.reference_sources["numerical_gradient"])
    write_notebook(tmp_path / "in", "burns_cpu", edited(backprop, {"numerical_gradient": burn}))
    write_notebook(tmp_path / "in", "alice", edited(backprop))
    done = run_cli("grade", "backprop", "--submissions", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                   "--workers", "2", "--cell-timeout", "50", "--limit", "cpu_seconds=12")
    assert done.returncode == 0, done.stderr[-3000:]
    burns, alice = (report.read_result(tmp_path / "out", name) for name in ("burns_cpu", "alice"))
    assert (burns["status"], burns["score"], alice["score"]) == ("cpu-time", 0, 100), burns["message"]
