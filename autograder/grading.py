"""The grading pipeline of DESIGN.md: one submission, then a folder of them."""
import functools
import multiprocessing
import shutil
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat

from . import course, gradebook, judge, notebook, policy, questions, release, report
from .execution import LocalKernel
from .kernels import Kernels
from .outcome import Outcome, Status
from .sandbox import SandboxedKernel
from .student import Student

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
    blocked = {f: f"policy: {f} {reason}" for f, reason in
               policy.scan(nb, assignment.rules).items()}
    defined = policy.defined_names(nb)
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


def grade_notebook(assignment, path, student_id, db_url, executor, secret):
    """Grade one notebook file; every outcome is a result dict, never an exception."""
    try:
        nb = notebook.restore(notebook.load(path), assignment.id, assignment.notebook_id, db_url)
    except notebook.InvalidNotebook as error:
        return failed(assignment, student_id, Status.INVALID_NOTEBOOK, str(error))
    blocked = _blocked_functions(assignment, nb)
    seed = questions.seed(secret, assignment.id, student_id, nb)
    with tempfile.TemporaryDirectory(prefix="autograder-") as workdir:
        _stage(assignment, nb, Path(workdir))
        with Kernels(executor, nb, workdir, assignment.numpy_only, skip=notebook.is_test_cell) as kernels:
            cell_trips = kernels.run_notebook()
            student = Student(kernels, assignment.functions, blocked)
            results, check_trips = judge.run_checks(assignment.checks, student, seed)
    policy_notes = [reason for reason in blocked.values() if reason.startswith("policy:")]
    status, message = Outcome(cell_trips + check_trips, policy_notes).verdict()
    return _result(assignment, student_id, status, message, [r.as_dict() for r in results])


def _grade_job(root, assignment_id, path, student_id, *, db_url, limits, sandboxed, secret):
    """Worker entry point: grade one submission in a fresh process."""
    assignment = course.load(Path(root), assignment_id)
    executor = SandboxedKernel(limits, assignment.hidden_packages) if sandboxed else LocalKernel(limits)
    started = time.monotonic()
    try:
        result = grade_notebook(assignment, Path(path), student_id, db_url, executor, secret)
    except Exception as error:  # a grader fault for this submission must not stop the others
        traceback.print_exc()
        result = failed(assignment, student_id, Status.GRADER_ERROR, f"{type(error).__name__}: {error}")
    return {**result, "seconds": round(time.monotonic() - started, 1), "cgroup": executor.cgroup}


def _symlink_in(folder, path):
    """The first part of `path` below `folder` that is a symbolic link, or None."""
    for part in [*reversed(path.relative_to(folder).parents[:-1]), path.relative_to(folder)]:
        if (folder / part).is_symlink():
            return folder / part
    return None


def _pooled(jobs, workers, job):
    """Run job(path, student_id) for {student_id: path} in fresh processes; yield (student_id, result or error)."""
    if not jobs:
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))), mp_context=context) as pool:
        futures = {pool.submit(job, str(path), student_id): student_id for student_id, path in jobs.items()}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except Exception as error:  # the worker process died (BrokenProcessPool) or could not start
                yield futures[future], error


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


def _finish(assignment, output_dir, db_url, result, sandboxed):
    """Record one result in the gradebook, then write its files (result.json last: it marks done).

    A result graded without the sandbox says so in its message and its `sandbox` field.
    """
    result["sandbox"] = "bubblewrap" if sandboxed else "none"
    if not sandboxed:
        result["message"] = "; ".join(filter(None, [UNSANDBOXED, result["message"]]))
    if result["status"] != Status.INVALID_SUBMISSION:  # no student to record: the folder itself is unusable
        scores = {}
        for item in result["checks"]:
            scores[item["grade_id"]] = scores.get(item["grade_id"], 0) + item["points"]
        gradebook.record(db_url, assignment, result["student_id"], scores)
    report.write_student(output_dir, result)


def grade_all(assignment, submissions_dir, output_dir, db_url, secret, workers=1, force=False, limits=None,
              progress=print, sandboxed=True):
    """Grade every submission in `submissions_dir`; return the results in student order.

    The gradebook must already know the assignment (gradebook.prepare). Each
    result is recorded as soon as it arrives, and finished students (a
    readable result.json) are skipped unless `force`, so an interrupted run
    resumes. Only this process writes outputs and the gradebook.
    """
    output_dir = Path(output_dir)
    results, jobs = {}, {}
    for student_id, found in find_submissions(assignment, submissions_dir).items():
        done = None if force else report.read_result(output_dir, student_id)
        if done and done.get("assignment") == assignment.id:
            results[student_id] = done
        elif isinstance(found, tuple):
            results[student_id] = failed(assignment, student_id, *found)
            _finish(assignment, output_dir, db_url, results[student_id], sandboxed)
        else:
            jobs[student_id] = found
    job = functools.partial(_grade_job, str(assignment.root), assignment.id, db_url=db_url,
                            limits=limits or assignment.limits, sandboxed=sandboxed, secret=secret)

    def record(student_id, result):
        _finish(assignment, output_dir, db_url, result, sandboxed)
        results[student_id] = result
        progress(result)

    lost = []
    for student_id, outcome in _pooled(jobs, workers, job):
        if isinstance(outcome, Exception):
            lost.append(student_id)  # a worker died, and a broken pool fails all it still held
        else:
            record(student_id, outcome)
    for student_id in lost:  # again, each alone, so one submission cannot take others down
        for _, outcome in _pooled({student_id: jobs[student_id]}, 1, job):
            if isinstance(outcome, Exception):
                outcome = failed(assignment, student_id, Status.GRADER_ERROR, f"the grading worker died: {outcome}")
            record(student_id, outcome)
    ordered = [results[student_id] for student_id in sorted(results)]
    report.write_grades(output_dir / "grades.csv", ordered)
    return ordered
