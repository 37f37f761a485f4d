"""Throughput of grading a class, and what grading costs over running the notebooks: N copies of the
reference (full-marks) submission graded five ways in one run on one machine, so the ratios mean something.
(a) bare nbclient, serially, in the grader's kernel environment, no sandbox, no checks; (b) plain `nbgrader
autograde`; (c) `autograder grade --workers 1`; (d) the same on every core; (e) `--executor dask` on a
LocalCluster of 2 single-threaded workers, started before the clock (skipped, and said so, without Dask).
Ratios: throughput (d)/(b) (goal >= 1.8x), time per submission (c)/(a) (goal <= 1.15x), throughput (e)/(d).
A run that does not grade all N at full marks is reported FAILED, left out of the ratios, and makes the
exit status 1. Nothing here asserts a time.

Run: `make benchmark`, or `python benchmarks/throughput.py [--assignments ID ...] [--copies N] [--json PATH]`
(about 3 minutes on 2 cores for the default 6 backprop and 4 softmax copies).
"""
import argparse
import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.api import Gradebook
from rich.console import Console
from rich.table import Table
from rich.text import Text

from classroom import ROOT, autograder_grade, nbgrader_autograde, run, write_class

import autograder
from autograder import course, gradebook, logs, report
from autograder.execution import QUIET_FRAMEWORKS, LocalKernel
from autograder.outcome import Status

DEFAULT_COPIES = {"backprop": 6, "softmax": 4}
CORES = len(os.sched_getaffinity(0))
LABELS = {"a": "(a) nbclient, serial, bare", "b": "(b) nbgrader autograde", "c": "(c) autograder --workers 1",
          "d": f"(d) autograder --workers {CORES}", "e": "(e) autograder --executor dask (2 workers)"}


class Failed(Exception):
    """A run that did not grade the whole class at full marks."""


class Skipped(Exception):
    """A run that cannot happen on this machine or with this checkout."""


@dataclass
class Run:
    """One way of grading the class: how long it took and what it checked, or why it failed or did not run."""

    label: str
    copies: int
    seconds: float | None = None
    verified: str = ""
    failed: str = ""
    skipped: str = ""

    @property
    def ok(self):
        return self.seconds is not None and not self.failed and not self.skipped

    @property
    def per_submission(self):
        return self.seconds / self.copies

    @property
    def per_minute(self):
        return 60 * self.copies / self.seconds

    def figures(self):
        rates = {"per_submission": self.per_submission, "per_minute": self.per_minute} if self.seconds else {}
        return {**asdict(self), **rates}


@dataclass(frozen=True)
class Ratio:
    """`top` / `bottom` of one measure of two runs, and the goal it should meet (None: no goal)."""

    top: str
    bottom: str
    measure: str  # "per_minute" (throughput) or "per_submission" (seconds per submission)
    goal: float | None = None

    @property
    def name(self):
        what = "throughput" if self.measure == "per_minute" else "time per submission"
        return f"({self.top}) / ({self.bottom}) {what}"

    @property
    def goal_text(self):
        return f"{'>=' if self.measure == 'per_minute' else '<='} {self.goal:g}x"

    def met(self, value):
        return value >= self.goal if self.measure == "per_minute" else value <= self.goal


RATIOS = (Ratio("d", "b", "per_minute", 1.8), Ratio("c", "a", "per_submission", 1.15), Ratio("e", "d", "per_minute"))


def tail(text, limit=300):
    """The end of a command's output, on one line."""
    return " ".join(text.split())[-limit:]


def measure(key, copies, how, *args):
    """Run `how(*args)` -> (seconds, what was verified) as run `key`; a failure or a skip becomes the Run's note."""
    try:
        seconds, verified = how(*args)
    except Skipped as why:
        return Run(LABELS[key], copies, skipped=str(why))
    except Failed as failure:
        return Run(LABELS[key], copies, failed=str(failure))
    except Exception as error:  # whatever went wrong, the benchmark says so and carries on
        return Run(LABELS[key], copies, failed=f"{type(error).__name__}: {error}")
    return Run(LABELS[key], copies, seconds, verified)


def bare_nbclient(assignment, students, submitted):
    """(a) Each notebook executed by nbclient in a fresh copy of its folder, with the environment the grader gives
    its kernels; a cell that raises fails the run."""
    environment = LocalKernel().environment()
    started = time.perf_counter()
    for student in students:
        with tempfile.TemporaryDirectory(prefix="throughput-") as workdir:
            shutil.copytree(submitted / student / assignment.id, workdir, dirs_exist_ok=True)
            nb = nbformat.read(Path(workdir) / f"{assignment.notebook_id}.ipynb", as_version=4)
            client = NotebookClient(nb, kernel_name=LocalKernel.kernel_name, resources={"metadata": {"path": workdir}})
            client.execute(env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, f"{len(students)}/{len(students)} ran without an error"


def finished(seconds, done):
    """A command's seconds, or Failed when it exited with an error."""
    if done.returncode:
        raise Failed(f"exit status {done.returncode}: {tail(done.stdout + ' ' + done.stderr)}")
    return seconds


def plain_nbgrader(assignment, students, submitted, scratch):
    """(b) `nbgrader autograde` of the class, into a gradebook that knows the assignment (what `nbgrader
    generate_assignment` leaves an instructor; made before the clock starts)."""
    db_url = f"sqlite:///{scratch / 'nbgrader.db'}"
    gradebook.prepare(assignment, db_url)
    seconds = finished(*run(nbgrader_autograde(assignment.id, db_url, submitted, scratch / "autograded")))
    with Gradebook(db_url) as gb:
        best = gb.find_assignment(assignment.id).max_score
        short = [s for s in students if gb.find_submission(assignment.id, s).score != best]
    if short:
        raise Failed(f"{len(short)} of {len(students)} below full marks in nbgrader's gradebook: {', '.join(short)}")
    return seconds, f"{len(students)}/{len(students)} at {best:g}/{best:g} (gradebook)"


def full_marks(grades_csv, students):
    """What a grades.csv shows: every student graded at full marks, or Failed."""
    rows = report.read_grades(grades_csv)
    if sorted(row["student_id"] for row in rows) != sorted(students):
        raise Failed(f"grades.csv has {len(rows)} rows for the {len(students)} students")
    short = [row for row in rows if row["status"] != Status.GRADED or float(row["score"]) != float(row["max_score"])]
    if short:
        row = short[0]
        raise Failed(f"{len(short)} of {len(students)} not graded at full marks, e.g. {row['student_id']}: "
                     f"{row['score']}/{row['max_score']} {row['status']} {tail(row['message'], 200)}")
    best = float(rows[0]["max_score"])
    return f"{len(students)}/{len(students)} graded at {best:g}/{best:g} (grades.csv)"


def autograder_cli(assignment, students, submitted, output, *options):
    """(c), (d), (e): the whole `autograder grade` command into a fresh output folder, then its grades.csv checked."""
    seconds = finished(*run(autograder_grade(assignment.id, submitted, output, *options)))
    return seconds, full_marks(output / "grades.csv", students)


@functools.cache
def dask_unavailable():
    """Why the Dask run cannot happen here, or None."""
    if importlib.util.find_spec("distributed") is None:
        return "distributed is not installed (pip install -e '.[dask]')"
    _, done = run([sys.executable, "-m", "autograder", "grade", "--help"])
    if "dask" not in done.stdout or "--scheduler" not in done.stdout:
        return "`autograder grade --help` offers no --executor dask and --scheduler"
    return None


def on_dask(assignment, students, submitted, output):
    """(e) The CLI handing the class to a LocalCluster of 2 single-threaded workers started here (not timed).
    What native libraries write to the workers' stderr is dropped, as `grade` does for its local workers."""
    if why := dask_unavailable():
        raise Skipped(why)
    from distributed import LocalCluster

    with logs.stderr_to(os.devnull), LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        return autograder_cli(assignment, students, submitted, output, "--executor", "dask",
                              "--scheduler", cluster.scheduler_address)


def benchmark(assignment, copies, console):
    """{run key: Run} for `copies` reference submissions of `assignment`, every run on the same class; and
    the machine's load averages (1 minute) before and after, since another job's load inflates every time."""
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="throughput-") as scratch:
        scratch = Path(scratch)
        submitted = scratch / "submitted"
        with logs.stderr_to(os.devnull):  # the reference's import may start TensorFlow, and its start-up lines
            students = write_class(assignment, submitted, copies)
        plan = {"a": (bare_nbclient, submitted),
                "b": (plain_nbgrader, submitted, scratch),
                "c": (autograder_cli, submitted, scratch / "out-c", "--workers", "1"),
                "d": (autograder_cli, submitted, scratch / "out-d", "--workers", str(CORES)),
                "e": (on_dask, submitted, scratch / "out-e")}
        runs = {}
        for key, (how, *args) in plan.items():
            with console.status(f"{assignment.id}: {LABELS[key]}"):
                runs[key] = measure(key, copies, how, assignment, students, *args)
    return runs, load + [os.getloadavg()[0]]


def ratio(item, runs):
    """(value, None) of a ratio, or (None, why it was not computed)."""
    missing = [f"({key}) {'skipped' if runs[key].skipped else 'failed'}" for key in (item.top, item.bottom)
               if not runs[key].ok]
    if missing:
        return None, "not computed: " + ", ".join(missing)
    return getattr(runs[item.top], item.measure) / getattr(runs[item.bottom], item.measure), None


def table(assignment_id, copies, runs, load):
    """The runs side by side: seconds, seconds per submission, submissions per minute, and what was verified."""
    grid = Table("run", "total s", "s / submission", "submissions / min", "verified",
                 title=f"{assignment_id}: {copies} copies of the reference submission, {CORES} cores",
                 caption=f"load average (1 min) {load[0]:.1f} before, {load[1]:.1f} after")
    for item in runs.values():
        numbers = ([f"{item.seconds:.1f}", f"{item.per_submission:.2f}", f"{item.per_minute:.2f}"]
                   if item.seconds is not None else ["-"] * 3)
        note = (Text(item.verified) if item.ok else Text(f"skipped: {item.skipped}", style="yellow") if item.skipped
                else Text(f"FAILED: {item.failed}", style="bold red"))
        grid.add_row(item.label, *numbers, note)
    return grid


def verdict(assignment_id, copies, runs):
    """One line: which autograder runs graded the whole class at full marks, or which runs failed."""
    failed = [f"({key})" for key, item in runs.items() if item.failed]
    if failed:
        return Text(f"{assignment_id}: FAILED: {', '.join(failed)} did not finish with all {copies} at full marks",
                    style="bold red")
    graded = [f"({key})" for key in "cde" if runs[key].ok]
    return Text(f"{assignment_id}: autograder runs {', '.join(graded)} each graded all {copies} at full marks")


def ratios(runs, console):
    """Print each ratio against its goal, or why it was not computed; return them as JSON-ready dicts."""
    figures = {}
    for item in RATIOS:
        value, why = ratio(item, runs)
        judged = item.goal is not None and value is not None
        goal = f" (goal {item.goal_text}: {'met' if item.met(value) else 'NOT met'})" if judged else ""
        console.print(f"  {item.name}: " + (f"{value:.2f}x{goal}" if value is not None else why), highlight=False)
        figures[item.name] = {"value": value, "goal": item.goal and item.goal_text,
                              "met": item.met(value) if judged else None, "note": why}
    return figures


def show(assignment_id, copies, runs, load, console):
    """Print the table, the verdict and the ratios of one assignment; return the ratios' figures."""
    console.print(table(assignment_id, copies, runs, load))
    if runs["e"].skipped:
        console.print(f"dask: skipped ({runs['e'].skipped})", highlight=False)
    console.print(verdict(assignment_id, copies, runs))
    return ratios(runs, console)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignments", nargs="+", default=list(DEFAULT_COPIES), metavar="ID")
    parser.add_argument("--copies", type=int, help="submissions per assignment (default: "
                        + ", ".join(f"{n} for {a}" for a, n in DEFAULT_COPIES.items()) + ", else 4)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    if args.copies is not None and args.copies < 1:
        parser.error("--copies must be at least 1")
    for name, value in QUIET_FRAMEWORKS.items():  # what `grade` gives its workers, for the Dask workers started here
        os.environ.setdefault(name, value)
    console = Console() if sys.stdout.isatty() else Console(width=120)  # a log gets the table unwrapped
    if Path(autograder.__file__).parents[1] != ROOT:
        console.print(f"note: this process imports {Path(autograder.__file__).parent}, the commands it times run "
                      f"{ROOT / 'autograder'} (set PYTHONPATH={ROOT} for one checkout throughout)", highlight=False)
    figures, ok = {"cores": CORES, "assignments": {}}, True
    for assignment_id in args.assignments:
        assignment = course.load(ROOT, assignment_id)
        copies = args.copies or DEFAULT_COPIES.get(assignment_id, 4)
        runs, load = benchmark(assignment, copies, console)
        ok &= not any(item.failed for item in runs.values())
        figures["assignments"][assignment_id] = {"copies": copies, "load_average": load,
                                                 "runs": {k: v.figures() for k, v in runs.items()},
                                                 "ratios": show(assignment_id, copies, runs, load, console)}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
