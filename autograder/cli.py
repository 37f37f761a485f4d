"""The `autograder` command: selfcheck, release, check, grade."""
import argparse
import dataclasses
import functools
import gc
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from contextlib import closing
from importlib import metadata
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from . import (autograded, course, executors, exports, gradebook, grading, logs, questions, release, report, samples,
               sandbox, selfcheck, student_check)
from .execution import QUIET_FRAMEWORKS
from .limits import Limits
from .outcome import Status

console = Console()
log = logging.getLogger("autograder")


def _assignments(root, ids):
    return [course.load(root, assignment_id) for assignment_id in (ids or course.assignment_ids(root))]


def cmd_selfcheck(args):
    root = course.find_root()
    sandbox.check_available()
    table = Table("assignment", "reference", "blank", "release", title="selfcheck")
    ok = True
    for assignment in _assignments(root, args.ids):
        result = selfcheck.run(assignment)
        ok &= result.ok
        table.add_row(assignment.id, f"{result.reference_score:g}/{result.max_score:g}",
                      f"{result.blank_score:g}/{result.max_score:g}",
                      "up to date" if not result.stale else "STALE: " + ", ".join(result.stale))
        for message in result.messages:
            console.print(f"[red]{assignment.id}: {escape(message)}[/red]")
    console.print(table)
    return 0 if ok else 1


def cmd_release(args):
    root = course.find_root()
    for assignment in _assignments(root, args.ids):
        release.release(assignment, args.db or assignment.db_url)
        console.print(f"released {assignment.id} -> {assignment.release_dir.relative_to(root)}/")
    return 0


def cmd_check(args):
    return student_check.main(Path(args.notebook), console)


class RateColumn(ProgressColumn):
    """Submissions per minute, from rich's own smoothed speed."""

    def render(self, task):
        return Text(f"{task.speed * 60:.1f}/min" if task.speed else "-/min")


def _progress_bar():
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                    TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=console)


def _report(bar, task):
    """Progress callback: a line per submission for logs, and the bar's count."""
    def progress(result, done, total):
        bar.update(task, completed=done, total=total)
        log.info("[%d/%d] %s: %g/%g %s (%s s)", done, total, result["student_id"], result["score"],
                 result["max_score"], result["status"], result.get("seconds", 0))
    return progress


def _statuses(text):
    """--fail-on's comma-separated statuses, each a real one."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in set(Status)]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown status {', '.join(unknown)} (known: {', '.join(Status)})")
    return set(names)


def cmd_grade(args):
    root = course.find_root()
    assignment = course.load(root, args.id)
    submissions = Path(args.submissions)
    if not submissions.is_dir():
        raise course.CourseError(f"--submissions {submissions} is not a folder")
    output = Path(args.output)
    db_url = args.db or assignment.db_url
    output.mkdir(parents=True, exist_ok=True)
    limits = _limits(assignment.limits, args)
    native_stderr = None if args.verbose > 0 else (args.log_file or os.devnull)
    if args.unsafe_no_sandbox:
        log.warning("%s; every result will say so.", grading.UNSANDBOXED)
    else:
        sandbox.check_available()
    secret = questions.course_secret(root, announce=log.warning)
    grader = grading.Grader(str(root), assignment.id, limits, not args.unsafe_no_sandbox, secret)
    executor = executors.pick(args.executor, args.workers, args.scheduler, args.device, native_stderr)
    started = time.monotonic()
    with logs.stderr_to(native_stderr):  # quietly: a course's checks may start a framework as they load
        assignment.checks  # before the workers fork, so they have the checks at once (docs/authoring.md, §3)
    # What is loaded by now lives as long as the run: no garbage collection need walk it again, here or in the
    # workers forked next (Python's advice before a fork), and the one at exit took 0.4 s walking it.
    gc.freeze()
    with closing(executor):
        executor.start(grader, len(grading.find_submissions(assignment, submissions)))
        if gradebook.prepare(assignment, db_url):
            log.info("recorded %s's current notebook in the gradebook", assignment.id)
        else:
            log.debug("the gradebook already holds %s's current notebook", assignment.id)
        log.info("grading %s on %s", assignment.id, executor.describe())
        with _progress_bar() as bar:
            if args.verbose < 0:
                bar.stop()
            task = bar.add_task(f"grading {assignment.id}", total=None)
            results = grading.grade_all(assignment, submissions, output, db_url, grader, executor,
                                        force=args.force, progress=_report(bar, task))
    if args.verbose >= 0:
        _print_table(assignment, results)
    console.print(f"{len(results)} submissions in {time.monotonic() - started:.1f} s; wrote {output / 'grades.csv'}, "
                  f"the gradebook {db_url} and the autograded notebooks in {autograded.folder(assignment, '*')}",
                  highlight=False)
    return _exit_status(results, args.fail_on)


def _print_table(assignment, results):
    table = Table("student_id", "score", "status", "message", title=f"{assignment.id} grades")
    for result in results:
        table.add_row(Text(result["student_id"]), f"{result['score']:g}/{result['max_score']:g}",
                      result["status"], Text(result["message"][:120]))
    console.print(table)


def _exit_status(results, fail_on):
    """1 when a result has a status --fail-on names (a CI job fails), else 0."""
    failing = [r["student_id"] for r in results if r["status"] in fail_on]
    if failing:
        console.print(f"[red]--fail-on {','.join(sorted(fail_on))}:[/red] {len(failing)} results: "
                      f"{escape(', '.join(failing[:20]))}", highlight=False)
        return 1
    return 0


def _limits(defaults, args):
    """The assignment's limits with the instructor's overrides from the command line."""
    overrides = {"cell_timeout": args.cell_timeout, "notebook_timeout": args.notebook_timeout}
    for item in args.limit:
        name, _, value = item.partition("=")
        if name not in Limits.names():
            raise course.CourseError(f"--limit {item}: unknown limit '{name}' (known: {', '.join(Limits.names())})")
        try:
            overrides[name] = float(value)
        except ValueError:
            raise course.CourseError(f"--limit {item}: '{value}' is not a number") from None
    return dataclasses.replace(defaults, **{k: v for k, v in overrides.items() if v is not None})


def cmd_export(args):
    assignment = course.load(course.find_root(), args.id)
    results = exports.read_run(assignment.id, Path(args.source))
    written = exports.FORMATS[args.to](assignment.id, results, Path(args.output))
    console.print(f"exported {len(results)} students' grades of {assignment.id} for {args.to}: "
                  f"{len(written)} file{'s' * (len(written) != 1)} in {args.output}", highlight=False)
    return 0


def cmd_run(args):
    """One notebook graded on its own, as Gradescope's run_autograder hands it over: the same grading as
    `grade` (one worker), then OUTPUT/results.json in Gradescope's format."""
    notebook = Path(args.notebook)
    if not notebook.is_file():
        raise course.CourseError(f"{notebook} is not a file")
    assignment_id = args.id or notebook.stem
    if problem := report.id_problem(args.student):
        raise course.CourseError(f"--student {args.student}: {problem}")
    with tempfile.TemporaryDirectory(prefix="autograder-run-") as scratch:
        submissions = Path(scratch) / "submissions"
        (submissions / args.student).mkdir(parents=True)
        shutil.copyfile(notebook, submissions / args.student / f"{assignment_id}.ipynb")
        status = cmd_grade(argparse.Namespace(**{
            **vars(args), "id": assignment_id, "submissions": str(submissions), "workers": 1, "executor": "local",
            "scheduler": None, "device": "auto", "force": True}))
    result = report.read_result(args.output, args.student)
    path = Path(args.output) / "results.json"
    report.atomic_write(path, json.dumps(exports.gradescope_results(result), indent=2) + "\n")
    console.print(f"wrote {path}", highlight=False)
    return status


def cmd_samples(args):
    root = course.find_root()
    assignment = course.load(root, args.id)
    students = samples.write_samples(assignment, Path(args.output))
    console.print(f"wrote {len(students)} sample submissions of {assignment.id} to {args.output}: "
                  + ", ".join(students))
    return 0


def _output_options():
    """-v, -q and --log-file, which every command takes after its name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_const", const=1, default=0,
                        help="say more, and leave the frameworks' own messages on stderr")
    common.add_argument("-q", "--quiet", action="store_const", const=-1, dest="verbose",
                        help="only warnings, errors and the summary")
    common.add_argument("--log-file", metavar="PATH", help="also write every message, in full, to PATH")
    return common


def _grading_options():
    """What `grade` and `run` both take: the gradebook, the limits, the sandbox and the exit-code policy."""
    options = argparse.ArgumentParser(add_help=False)
    option = options.add_argument
    option("--fail-on", type=_statuses, default=set(), metavar="STATUS,...",
           help="exit with status 1 when any result has one of these statuses (e.g. grader-error,timeout)")
    option("--db", help="gradebook URL (default: the course's, as nbgrader_config.py says)")
    option("--cell-timeout", type=float, help="CPU seconds per cell and per check; a kernel that waits is "
           "stopped at 3 times that of wall clock (default: the assignment's)")
    option("--notebook-timeout", type=float, help="CPU seconds per kernel's run of the notebook "
           "(default: the assignment's)")
    option("--limit", action="append", default=[], metavar="NAME=VALUE",
           help=f"override one of the assignment's limits ({', '.join(Limits.names())})")
    option("--unsafe-no-sandbox", action="store_true",
           help="run student code unconfined (trusted code only; every result says so)")
    return options


def parser():
    top = argparse.ArgumentParser(prog="autograder", description=__doc__)
    top.add_argument("--version", action="version", version=f"autograder {metadata.version('autograder')}")
    commands = top.add_subparsers(dest="command", required=True)
    common = _output_options()
    add_parser = functools.partial(commands.add_parser, parents=[common])
    sub = add_parser("selfcheck", help="reference full marks, blank zero, release up to date")
    sub.add_argument("ids", nargs="*", metavar="ID")
    sub.set_defaults(func=cmd_selfcheck)
    sub = add_parser("release", help="regenerate release/<id>/ through nbgrader")
    sub.add_argument("ids", nargs="*", metavar="ID")
    sub.add_argument("--db", help="gradebook URL (default: the course's, as nbgrader_config.py says)")
    sub.set_defaults(func=cmd_release)
    sub = add_parser("check", help="run a notebook's visible checks locally")
    sub.add_argument("notebook")
    sub.set_defaults(func=cmd_check)
    sub = add_parser("samples", help="write the bundled sample submissions of an assignment")
    sub.add_argument("id")
    sub.add_argument("--output", required=True)
    sub.set_defaults(func=cmd_samples)
    grading_options = _grading_options()
    sub = add_parser("grade", help="grade a folder of submissions", parents=[common, grading_options])
    sub.add_argument("id")
    sub.add_argument("--submissions", required=True, help="DIR/<student_id>/<id>.ipynb")
    sub.add_argument("--output", required=True)
    sub.add_argument("--workers", type=int, help="local grading processes (default: one per core, or per GPU)")
    sub.add_argument("--executor", choices=["local", "dask"], default="local",
                     help="local processes, or the workers of a Dask cluster (--scheduler)")
    sub.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler, tcp://HOST:8786")
    sub.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto",
                     help="auto: this machine's GPUs where it has any (one worker each), else its cores")
    sub.add_argument("--force", action="store_true", help="regrade finished submissions")
    sub.set_defaults(func=cmd_grade)
    sub = add_parser("run", help="grade one notebook and write Gradescope's results.json (its run_autograder)",
                     parents=[common, grading_options])
    sub.add_argument("notebook")
    sub.add_argument("--output", required=True, metavar="DIR", help="results.json, result.json and feedback.html")
    sub.add_argument("--id", help="the assignment (default: the notebook's file name without .ipynb)")
    sub.add_argument("--student", default="student", help="the student id its gradebook rows get")
    sub.set_defaults(func=cmd_run)
    sub = add_parser("export", help="a grading run's grades as a CSV, a Canvas import or Gradescope results")
    sub.add_argument("id")
    sub.add_argument("--to", choices=sorted(exports.FORMATS), required=True)
    sub.add_argument("--from", dest="source", required=True, metavar="OUT", help="the folder `grade --output` wrote")
    sub.add_argument("--output", required=True, metavar="DIR")
    sub.set_defaults(func=cmd_export)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    for name, value in QUIET_FRAMEWORKS.items():  # the checks of Keras assignments may run Keras here too
        os.environ.setdefault(name, value)
    logs.configure(console, args.verbose, args.log_file)
    try:
        return args.func(args)
    except (course.CourseError, sandbox.SandboxUnavailable, executors.ExecutorUnavailable) as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        return 2
    finally:
        gc.freeze()  # the process ends next: a last collection of all it made would only delay that (0.1 s or more)


if __name__ == "__main__":
    sys.exit(main())
