"""The grading pipeline of DESIGN.md: one submission, then a folder of them."""
import hashlib
import multiprocessing
import re
import shutil
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import course, gradebook, judge, notebook, policy, report
from .execution import LocalKernel
from .sandbox import SandboxedKernel

UNSANDBOXED = "UNSANDBOXED (--unsafe-no-sandbox): student code ran unconfined"

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


def seed_for(assignment_id, student_id):
    """The judge's seed: fixed per student and assignment, so a regrade is identical."""
    return int.from_bytes(hashlib.sha256(f"{assignment_id}/{student_id}".encode()).digest()[:8], "big")


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
               policy.scan(nb, assignment.forbidden, assignment.functions).items()}
    defined = policy.defined_names(nb)
    for function in assignment.functions:
        if function not in defined:
            blocked.setdefault(function, f"{function} is not defined in the notebook")
    return blocked


def _status(cell_failures, broken, trips, blocked):
    """The named status and the message that tells the student what happened.

    A broken session names the status; otherwise the first limit a cell or a
    check hit; then a policy breach. Points already earned are kept in every case.
    """
    notes = [failure.message for failure in cell_failures]
    if broken:
        return broken.status, "; ".join(dict.fromkeys(notes + [str(broken)]))
    limits = [failure.kind for failure in cell_failures if failure.kind != "error"] + [kind for _, kind in trips]
    if limits:
        return limits[0], "; ".join(notes + [f"check {name} hit the {kind} limit" for name, kind in trips])
    policy_notes = sorted({reason for reason in blocked.values() if reason.startswith("policy:")})
    if policy_notes:
        return "policy", "; ".join(policy_notes + notes)
    return "graded", "; ".join(notes)


def grade_notebook(assignment, path, student_id, db_url, executor, seed):
    """Grade one notebook file; every outcome is a result dict, never an exception."""
    try:
        nb = notebook.restore(notebook.load(path), assignment.id, assignment.notebook_id, db_url)
    except notebook.InvalidNotebook as error:
        return failed(assignment, student_id, "invalid-notebook", str(error))
    blocked = _blocked_functions(assignment, nb)
    with tempfile.TemporaryDirectory(prefix="autograder-") as workdir:
        for item in assignment.release_dir.iterdir():  # the data the assignment releases
            if item.name != assignment.release_notebook_path.name and item.is_file():
                shutil.copy(item, workdir)
        with executor.open(nb, workdir) as session:
            cell_failures = session.run_notebook(skip=notebook.is_test_cell)
            results, broken, trips = judge.run_checks(assignment.checks, session, seed, blocked)
    status, message = _status(cell_failures, broken, trips, blocked)
    return _result(assignment, student_id, status, message, [r.as_dict() for r in results])


def _grade_job(root, assignment_id, path, student_id, db_url, limits, sandboxed):
    """Worker entry point: grade one submission in a fresh process."""
    assignment = course.load(Path(root), assignment_id)
    executor = SandboxedKernel(limits) if sandboxed else LocalKernel(limits)
    try:
        return grade_notebook(assignment, Path(path), student_id, db_url,
                              executor, seed_for(assignment_id, student_id))
    except Exception as error:  # a grader fault for this submission must not stop the others
        traceback.print_exc()
        return failed(assignment, student_id, "grader-error", f"{type(error).__name__}: {error}")


def find_submissions(assignment, submissions_dir):
    """{student_id: notebook path or None}: `DIR/<student>/<id>.ipynb` or nbgrader's `DIR/<student>/<id>/<id>.ipynb`."""
    found = {}
    for folder in sorted(Path(submissions_dir).iterdir()):
        if not folder.is_dir():
            continue
        name = f"{assignment.notebook_id}.ipynb"
        candidates = [folder / name, folder / assignment.id / name]
        found[folder.name] = next((c for c in candidates if c.is_file()), None)
    return found


def _finish(assignment, output_dir, db_url, result, sandboxed):
    """Record one result in the gradebook, then write its files (result.json last: it marks done).

    A result graded without the sandbox says so in its message and its `sandbox` field.
    """
    result["sandbox"] = "bubblewrap" if sandboxed else "none"
    if not sandboxed:
        result["message"] = "; ".join(filter(None, [UNSANDBOXED, result["message"]]))
    scores = {}
    for item in result["checks"]:
        scores[item["grade_id"]] = scores.get(item["grade_id"], 0) + item["points"]
    gradebook.record(db_url, assignment, result["student_id"], scores)
    report.write_student(output_dir, result)


def grade_all(assignment, submissions_dir, output_dir, db_url, workers=1, force=False, limits=None,
              progress=print, sandboxed=True):
    """Grade every submission in `submissions_dir`; return the results in student order.

    The gradebook must already know the assignment (gradebook.prepare). Each
    result is recorded as soon as it arrives, and finished students (a
    readable result.json) are skipped unless `force`, so an interrupted run
    resumes. Only this process writes outputs and the gradebook.
    """
    output_dir = Path(output_dir)
    results, jobs = {}, {}
    for student_id, path in find_submissions(assignment, submissions_dir).items():
        if not STUDENT_ID.match(student_id):
            results[student_id] = failed(assignment, student_id, "invalid-submission",
                                         "the folder name is not a usable student id")
            continue
        done = None if force else report.read_result(output_dir, student_id)
        if done and done.get("assignment") == assignment.id:
            results[student_id] = done
        elif path is None:
            results[student_id] = failed(assignment, student_id, "invalid-notebook",
                                         f"no {assignment.notebook_id}.ipynb in {student_id}/")
            _finish(assignment, output_dir, db_url, results[student_id], sandboxed)
        else:
            jobs[student_id] = path
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
        futures = {student_id: pool.submit(_grade_job, str(assignment.root), assignment.id, str(path),
                                           student_id, db_url, limits or assignment.limits, sandboxed)
                   for student_id, path in jobs.items()}
        for student_id, future in futures.items():
            try:
                result = future.result()
            except Exception as error:  # the worker process itself died
                result = failed(assignment, student_id, "grader-error", f"worker failed: {error}")
            _finish(assignment, output_dir, db_url, result, sandboxed)
            results[student_id] = result
            progress(result)
    ordered = [results[student_id] for student_id in sorted(results)]
    report.write_grades(output_dir / "grades.csv", ordered)
    return ordered
