"""The grading pipeline of docs/design.md: one submission, then a folder of them."""
import logging
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader import utils as nbgrader_utils
from threadpoolctl import threadpool_limits

from . import autograded, class_report, course, gpus, gradebook, judge, notebook, policy, questions, release, report
from .execution import LocalKernel
from .kernels import Kernels
from .limits import Limits
from .outcome import Outcome, Status
from .sandbox import SandboxedKernel
from .student import Student

log = logging.getLogger(__name__)
UNSANDBOXED = "UNSANDBOXED (--unsafe-no-sandbox): student code ran unconfined"


def _result(assignment, student_id, status, message, checks):
    return {"student_id": student_id, "assignment": assignment.id,
            "score": round(sum(c["points"] for c in checks), 6),
            "max_score": sum(c.points for c in assignment.checks),
            "status": status, "message": message, "checks": checks}


def _unrun(assignment, reason):
    return [judge.CheckResult(c.name, c.grade_id, list(c.functions), 0, c.points, reason).as_dict()
            for c in assignment.checks]


def failed(assignment, student_id, status, message):
    """The result of a submission that could not be run at all: every check at zero."""
    return _result(assignment, student_id, status, message, _unrun(assignment, f"not run: {message}"))


def _blocked_functions(assignment, nb):
    trees = policy.parsed(nb)
    blocked = {f: f"policy: {f} {reason}" for f, reason in
               policy.scan(nb, assignment.rules, trees).items()}
    defined = policy.defined_names(nb, trees)
    for function in assignment.functions:
        if function not in defined:
            blocked.setdefault(function, f"{function} is not defined in the notebook")
    return blocked


def _stage(assignment, nb, workdir):
    """The kernel's working folder: the student's (restored) notebook and the data the assignment releases."""
    for item in assignment.release_dir.iterdir():
        if item.name == assignment.release_notebook_path.name or item.is_symlink() or release.ignored(item.name):
            continue
        if item.is_dir():
            shutil.copytree(item, workdir / item.name, ignore=shutil.ignore_patterns(*release.IGNORED))
        elif item.is_file():
            shutil.copy(item, workdir)
    nbformat.write(nb, workdir / assignment.release_notebook_path.name)


def restored(assignment, path, db_url):
    """The submission at `path` with its test and locked cells restored from the gradebook (nbgrader's
    sanitizing), ready to travel to a worker; raise notebook.InvalidNotebook when it cannot be read."""
    return notebook.restore(notebook.load(path), assignment.id, assignment.notebook_id, db_url)


def grade_notebook(assignment, nb, student_id, executor, secret):
    """Grade one restored notebook; every outcome of the student's code is a result dict, never an exception.
    Its `notebook` is the notebook as it ran (nbformat JSON), for the autograded copy."""
    blocked = _blocked_functions(assignment, nb)
    seed = questions.seed(secret, assignment.id, student_id, nb)
    with tempfile.TemporaryDirectory(prefix="autograder-") as workdir:
        _stage(assignment, nb, Path(workdir))
        with Kernels(executor, nb, workdir, assignment.numpy_only, skip=notebook.is_test_cell) as kernels:
            student = Student(kernels, assignment.functions, blocked)
            results, check_trips = judge.run_checks(assignment.checks, student, seed)
            cell_trips, executed = kernels.notebook_trips(), kernels.executed()
    policy_notes = [reason for reason in blocked.values() if reason.startswith("policy:")]
    status, message = Outcome(cell_trips + check_trips, policy_notes).verdict()
    return {**_result(assignment, student_id, status, message, [r.as_dict() for r in results]),
            "notebook": nbformat.writes(executed)}


@dataclass(frozen=True)
class Grader:
    """Grades one submission wherever it runs: a process of the local pool or a Dask worker.

    Plain data only, so it travels by pickle; the course is read at `course_root` on the worker
    (the same path as the coordinator's, or a copy of it there: README, "Grading on a cluster").
    """

    course_root: str
    assignment_id: str
    limits: Limits
    sandboxed: bool
    secret: bytes

    def warm(self):
        """Load the assignment and import its checks (Keras, for some) before the first task needs them."""
        return course.load(Path(self.course_root), self.assignment_id).checks

    def __call__(self, student_id, notebook_json):
        """Grade a restored notebook (nbformat JSON text); a result dict whatever happens, with the
        traceback under `trace` when the grader itself failed.

        The checks' own NumPy (the reference's runs) computes on one thread, as the kernels do: the cores
        are shared out by workers, and BLAS threads that wait for a busy core spin on it (a softmax
        submission cost 6.3 CPU-seconds with them, 4.6 without).
        """
        with threadpool_limits(limits=1):
            return self._grade(student_id, notebook_json)

    def _grade(self, student_id, notebook_json):
        assignment = course.load(Path(self.course_root), self.assignment_id)
        gpu = gpus.pinned()
        executor = (SandboxedKernel(self.limits, assignment.hidden_packages, gpu=gpu) if self.sandboxed
                    else LocalKernel(self.limits))
        started = time.monotonic()
        try:
            nb = nbformat.reads(notebook_json, as_version=4)
            result = grade_notebook(assignment, nb, student_id, executor, self.secret)
        except Exception as error:  # a grader fault for this submission must not stop the others
            result = failed(assignment, student_id, Status.GRADER_ERROR, f"{type(error).__name__}: {error}")
            result["trace"] = traceback.format_exc()
        return {**result, "seconds": round(time.monotonic() - started, 1), "cgroup": executor.cgroup,
                "device": "cpu" if gpu is None else f"gpu {gpu}"}


def _symlink_in(folder, path):
    """The first part of `path` below `folder` that is a symbolic link, or None."""
    for part in [*reversed(path.relative_to(folder).parents[:-1]), path.relative_to(folder)]:
        if (folder / part).is_symlink():
            return folder / part
    return None


def find_submissions(assignment, submissions_dir):
    """{student_id: notebook path, or (status, message) when there is nothing to grade}.

    `DIR/<student>/<id>.ipynb` or nbgrader's `DIR/<student>/<id>/<id>.ipynb`.
    Symbolic links are refused: they could point at another student's work or
    at the grader's own files.
    """
    found, name = {}, f"{assignment.notebook_id}.ipynb"
    for folder in sorted(Path(submissions_dir).iterdir()):
        if folder.is_symlink():
            found[folder.name] = (Status.INVALID_SUBMISSION, f"{folder.name}/ is a symbolic link, not a folder")
        elif not folder.is_dir():
            continue
        elif problem := report.id_problem(folder.name):
            found[folder.name] = (Status.INVALID_SUBMISSION, problem)
        else:
            candidates = [folder / name, folder / assignment.id / name]
            path = next((c for c in candidates if c.is_symlink() or c.is_file()), None)
            link = path and _symlink_in(folder, path)
            if link:
                found[folder.name] = (Status.INVALID_SUBMISSION,
                                      f"{link.relative_to(folder.parent)} is a symbolic link, not a file")
            else:
                found[folder.name] = path or (Status.INVALID_NOTEBOOK, f"no {name} in {folder.name}/")
    return found


def handed_in(path, submissions_dir):
    """(time, problem) of the notebook at `path`: the UTC time in the timestamp.txt beside it (nbgrader's
    submitted/ layout), read as nbgrader reads it; (None, None) without one; (None, why) when unusable."""
    stamp = path.parent / "timestamp.txt"
    name = stamp.relative_to(submissions_dir)
    if stamp.is_symlink() or (stamp.exists() and not stamp.is_file()):
        return None, f"{name} is not a plain file, so no late penalty applies"
    if not stamp.exists():
        return None, None
    try:
        with stamp.open("rb") as stream:
            return nbgrader_utils.parse_utc(stream.read(200).decode("utf-8").strip()), None
    except (OSError, UnicodeDecodeError, ValueError, OverflowError) as error:
        return None, f"{name} is not a time nbgrader reads ({type(error).__name__}), so no late penalty applies"


def _lateness(seconds, penalty):
    """What a late submission's message says: how late, and the penalty the course's nbgrader configuration gave."""
    late = f"handed in {seconds / 3600:.1f} h after the due date"
    return f"{late}: late penalty {penalty:g} points (nbgrader)" if penalty else f"{late} (no late penalty configured)"


def _note(result, note, first=False):
    """Add `note` to the result's message, after what it says or, `first`, before."""
    result["message"] = "; ".join(filter(None, [note, result["message"]] if first else [result["message"], note]))


def unanswered(nb):
    """The solution cells of a restored notebook left as released (nbgrader's checksum still matches)."""
    return {grade_id for grade_id, cell in notebook.solution_cells(nb).items()
            if cell.metadata.nbgrader.get("checksum") == nbgrader_utils.compute_checksum(cell)}


def _comments(assignment, result, unanswered_cells):
    """{solution cell: its automatic comment}: SaveAutoGrades' "No response." for one left as released, else
    the message of each check of its function that lost points (a solution cell is named after its function),
    or None when none did."""
    def lost(function):
        return "\n".join(f"{check['name']}: {check['message']}" for check in result["checks"]
                         if function in check["functions"] and check["points"] < check["max_points"])
    return {function: "No response." if function in unanswered_cells else lost(function) or None
            for function in assignment.functions}


def _finish(assignment, output_dir, db_url, result, sandboxed, handed=(None, None), unanswered_cells=()):
    """Record one result in the gradebook, with the submission's time when `handed` (`handed_in`) knows it,
    and its autograded notebook (from the result's `notebook`, which leaves it), then write its files
    (result.json last: it marks done).

    A result graded without the sandbox says so in its message and its `sandbox` field; a late one says how
    late, and the penalty nbgrader gave it.
    """
    timestamp, problem = handed
    executed = result.pop("notebook", None)
    result["sandbox"] = "bubblewrap" if sandboxed else "none"
    result["timestamp"] = timestamp and timestamp.isoformat()
    if not sandboxed:
        _note(result, UNSANDBOXED, first=True)
    if problem:
        log.warning("%s: %s", result["student_id"], problem)
        _note(result, problem)
    if result["status"] != Status.INVALID_SUBMISSION:  # no student to record: the folder itself is unusable
        scores = {}
        for item in result["checks"]:
            scores[item["grade_id"]] = scores.get(item["grade_id"], 0) + item["points"]
        late, penalty = gradebook.record(db_url, assignment, result["student_id"], scores,
                                         _comments(assignment, result, unanswered_cells), timestamp)
        if late > 0:
            _note(result, _lateness(late, penalty))
        result["late_penalty"] = penalty or 0
        try:
            autograded.write(assignment, result, executed, timestamp)
        except OSError as error:  # the grade stands; only nbgrader's view of this notebook is missing
            log.error("%s: could not write the autograded notebook (%s)", result["student_id"], error)
    report.write_student(output_dir, result)


def _finished(output_dir, student_id, assignment):
    """The result a previous run wrote for `student_id`, unless there is none or the grader failed there."""
    done = report.read_result(output_dir, student_id)
    if done and done.get("assignment") == assignment.id and done.get("status") != Status.GRADER_ERROR:
        return done
    return None


def grade_all(assignment, submissions_dir, output_dir, db_url, grader, executor, force=False,
              progress=lambda result, done, total: None):
    """Grade every submission in `submissions_dir` with `grader` on `executor`; return the results in
    student order.

    The gradebook must already know the assignment (gradebook.prepare). Each result is
    recorded as soon as it arrives, and finished students (a readable result.json, not a
    grader error) are skipped unless `force`, so an interrupted run resumes. A task whose
    worker was lost runs again, alone, once; then its row says grader-error. Only this
    process writes outputs and the gradebook; `progress` hears of each new result.
    """
    output_dir = Path(output_dir)
    results, pending, tasks, times, unanswered_cells = {}, {}, {}, {}, {}
    for student_id, found in find_submissions(assignment, submissions_dir).items():
        done = None if force else _finished(output_dir, student_id, assignment)
        if done:
            results[student_id] = done
        else:
            pending[student_id] = found
    recorded, lost = [], []

    def record(result):
        if trace := result.pop("trace", None):
            log.error("grader error on %s:\n%s", result["student_id"], trace)
        student_id = result["student_id"]
        handed = times.get(student_id, (None, None))
        _finish(assignment, output_dir, db_url, result, grader.sandboxed, handed, unanswered_cells.get(student_id, ()))
        results[student_id] = result
        recorded.append(student_id)
        progress(result, len(recorded), len(pending))

    def restored_tasks():
        """Each pending submission restored as the executor takes it, so the workers begin with the first while
        the rest are restored; one that cannot be graded is recorded as failed instead."""
        for student_id, found in pending.items():
            if isinstance(found, tuple):
                record(failed(assignment, student_id, *found))
                continue
            times[student_id] = handed_in(found, submissions_dir)
            try:
                nb = restored(assignment, found, db_url)
            except notebook.InvalidNotebook as error:
                record(failed(assignment, student_id, Status.INVALID_NOTEBOOK, str(error)))
                continue
            tasks[student_id], unanswered_cells[student_id] = nbformat.writes(nb), unanswered(nb)
            yield student_id, tasks[student_id]

    for student_id, outcome in executor.run(grader, restored_tasks()):
        if isinstance(outcome, Exception):
            log.warning("lost the worker grading %s (%s); it runs again once", student_id, outcome)
            lost.append(student_id)  # a worker died, and a broken pool fails all it still held
        else:
            record(outcome)
    for student_id in lost:  # again, each alone, so one submission cannot take others down
        for _, outcome in executor.run(grader, [(student_id, tasks[student_id])]):
            if isinstance(outcome, Exception):
                outcome = failed(assignment, student_id, Status.GRADER_ERROR, f"the grading worker died: {outcome}")
            record(outcome)
    ordered = [results[student_id] for student_id in sorted(results)]
    report.write_grades(output_dir / "grades.csv", ordered)
    class_report.write(output_dir, assignment.id, ordered)
    return ordered
