"""The `autograder` command: selfcheck, release, check, grade."""
import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from . import course, gradebook, grading, questions, release, samples, sandbox, selfcheck, student_check
from .execution import QUIET_FRAMEWORKS
from .limits import Limits
from .outcome import Status

console = Console()


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
        release.release(assignment, args.db or default_db(root))
        console.print(f"released {assignment.id} -> {assignment.release_dir.relative_to(root)}/")
    return 0


def default_db(root):
    return f"sqlite:///{root / 'gradebook.db'}"


def cmd_check(args):
    return student_check.main(Path(args.notebook), console)


def _print_result(result):
    colour = "green" if result["status"] == Status.GRADED else "yellow"
    console.print(f"  {escape(result['student_id'])}: {result['score']:g}/{result['max_score']:g} "
                  f"[{colour}]{result['status']}[/{colour}]")


def cmd_grade(args):
    root = course.find_root()
    assignment = course.load(root, args.id)
    submissions = Path(args.submissions)
    if not submissions.is_dir():
        raise course.CourseError(f"--submissions {submissions} is not a folder")
    output = Path(args.output)
    db_url = args.db or f"sqlite:///{output.resolve() / 'gradebook.db'}"
    output.mkdir(parents=True, exist_ok=True)
    limits = _limits(assignment.limits, args)
    if args.unsafe_no_sandbox:
        console.print(f"[bold red]WARNING: {grading.UNSANDBOXED}; every result will say so.[/bold red]")
    else:
        sandbox.check_available()
    started = time.monotonic()
    gradebook.prepare(assignment, db_url)
    secret = questions.course_secret(root, announce=console.print)
    results = grading.grade_all(assignment, submissions, output, db_url, secret, workers=args.workers,
                                force=args.force, limits=limits, progress=_print_result,
                                sandboxed=not args.unsafe_no_sandbox)
    table = Table("student_id", "score", "status", "message", title=f"{assignment.id} grades")
    for result in results:
        table.add_row(Text(result["student_id"]), f"{result['score']:g}/{result['max_score']:g}",
                      result["status"], Text(result["message"][:120]))
    console.print(table)
    console.print(f"{len(results)} submissions in {time.monotonic() - started:.1f} s; "
                  f"wrote {output / 'grades.csv'} and the gradebook {db_url}")
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


def cmd_samples(args):
    root = course.find_root()
    assignment = course.load(root, args.id)
    students = samples.write_samples(assignment, Path(args.output))
    console.print(f"wrote {len(students)} sample submissions of {assignment.id} to {args.output}: "
                  + ", ".join(students))
    return 0


def parser():
    top = argparse.ArgumentParser(prog="autograder", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    sub = commands.add_parser("selfcheck", help="reference full marks, blank zero, release up to date")
    sub.add_argument("ids", nargs="*", metavar="ID")
    sub.set_defaults(func=cmd_selfcheck)
    sub = commands.add_parser("release", help="regenerate release/<id>/ through nbgrader")
    sub.add_argument("ids", nargs="*", metavar="ID")
    sub.add_argument("--db", help="gradebook URL (default: the course's gradebook.db)")
    sub.set_defaults(func=cmd_release)
    sub = commands.add_parser("check", help="run a notebook's visible checks locally")
    sub.add_argument("notebook")
    sub.set_defaults(func=cmd_check)
    sub = commands.add_parser("samples", help="write the bundled sample submissions of an assignment")
    sub.add_argument("id")
    sub.add_argument("--output", required=True)
    sub.set_defaults(func=cmd_samples)
    sub = commands.add_parser("grade", help="grade a folder of submissions")
    sub.add_argument("id")
    sub.add_argument("--submissions", required=True, help="DIR/<student_id>/<id>.ipynb")
    sub.add_argument("--output", required=True)
    sub.add_argument("--workers", type=int, default=1)
    sub.add_argument("--executor", choices=["local"], default="local")
    sub.add_argument("--db", help="gradebook URL (default: sqlite in the output folder)")
    sub.add_argument("--force", action="store_true", help="regrade finished submissions")
    sub.add_argument("--cell-timeout", type=float, help="CPU seconds per cell and per check; a kernel that "
                     "waits is stopped at 3 times that of wall clock (default: the assignment's)")
    sub.add_argument("--notebook-timeout", type=float, help="CPU seconds per kernel's run of the notebook "
                     "(default: the assignment's)")
    sub.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                     help=f"override one of the assignment's limits ({', '.join(Limits.names())})")
    sub.add_argument("--unsafe-no-sandbox", action="store_true",
                     help="run student code unconfined (trusted code only; every result says so)")
    sub.set_defaults(func=cmd_grade)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    for name, value in QUIET_FRAMEWORKS.items():  # the checks of Keras assignments may run Keras here too
        os.environ.setdefault(name, value)
    try:
        return args.func(args)
    except (course.CourseError, sandbox.SandboxUnavailable) as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
