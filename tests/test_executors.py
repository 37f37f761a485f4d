"""Where grading runs: a real Dask cluster grades as the local pool does and loses nothing when a worker
dies mid-task; the local pool gives each worker a GPU of its own."""
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time

import dask
import distributed
import pytest
from nbgrader.api import Gradebook

from autograder import gpus
from autograder.executors import LocalPool
from conftest import ROOT, orphans_left

SAME = ("score", "status", "message", "checks")


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded workers; the scheduler leaves a lost task to the grader, which runs it again once."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as local:
            yield local


def _kill_a_busy_worker(scheduler_address, timeout=300):
    """SIGKILL the first worker seen running a task (its nanny starts a fresh one)."""
    with distributed.Client(scheduler_address, timeout="30s") as client:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                time.sleep(2)  # well into the task: its kernel is running
                os.kill(client.run(os.getpid, workers=busy[:1])[busy[0]], signal.SIGKILL)
                return
            time.sleep(0.2)
    raise AssertionError("no worker took a task")


def test_a_dask_cluster_gives_the_local_pools_grades_and_a_worker_killed_mid_task_loses_nothing(
        cluster, graded, tmp_path):
    students = ["alice", "bob", "carol", "dies", "tampered"]
    for student in students:
        shutil.copytree(graded["submissions"] / student, tmp_path / "in" / student)
    output, db_url = tmp_path / "out", f"sqlite:///{tmp_path / 'gradebook.db'}"
    run = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "backprop", "--submissions",
                            str(tmp_path / "in"), "--output", str(output), "--executor", "dask", "--scheduler",
                            cluster.scheduler_address, "--cell-timeout", "5", "--db", db_url],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _kill_a_busy_worker(cluster.scheduler_address)
    stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stdout + stderr
    assert f"grading backprop on 2 Dask workers at {cluster.scheduler_address}" in stdout
    assert "lost the worker grading" in stdout
    results = {path.parent.name: json.loads(path.read_text()) for path in output.glob("*/result.json")}
    assert sorted(results) == students
    for student in students:
        assert {k: results[student][k] for k in SAME} == {k: graded["results"][student][k] for k in SAME}, student
    with Gradebook(db_url) as gb:
        assert sorted(s.id for s in gb.students) == students
        assert all(len(gb.find_student(s).submissions) == 1 for s in students)
    assert orphans_left() == []


def which_gpu(student_id, notebook_json):
    """A stand-in grader: what a pool worker was pinned to."""
    return os.environ["CUDA_VISIBLE_DEVICES"], os.getpid()


def test_the_local_pool_runs_one_worker_per_gpu_each_on_its_own():
    pool = LocalPool(workers=8, gpu_indices=[3, 7])
    assert pool.workers == 2 and pool.describe() == "2 local workers on GPUs 3, 7"
    seen = [outcome for _, outcome in pool.run(which_gpu, [(f"s{i}", "{}") for i in range(6)])]
    devices_of = {}
    for device, pid in seen:
        devices_of.setdefault(pid, set()).add(device)
    assert {device for device, _ in seen} <= {"3", "7"}
    assert all(len(devices) == 1 for devices in devices_of.values())
    assert len(devices_of) <= 2 and len({next(iter(d)) for d in devices_of.values()}) == len(devices_of)


def test_a_worker_works_on_the_gpu_it_was_pinned_to_when_that_gpu_is_there(tmp_path):
    for name in ("nvidia0", "nvidia1", "nvidiactl"):
        (tmp_path / name).touch()
    assert gpus.pinned({"CUDA_VISIBLE_DEVICES": "1"}, dev=tmp_path) == 1
    assert gpus.pinned({"CUDA_VISIBLE_DEVICES": "2"}, dev=tmp_path) is None  # no such GPU: the CPU
    assert gpus.pinned({"CUDA_VISIBLE_DEVICES": "0,1"}, dev=tmp_path) is None  # not one GPU
    assert gpus.pinned({}, dev=tmp_path) is None


class WarmedGrader:
    """A stand-in grader: `warm` runs in each worker as it starts; a task says whether its process was warmed."""

    def warm(self):
        os.environ["WARMED_BY"] = str(os.getpid())

    def __call__(self, student_id, notebook_json):
        return os.environ.get("WARMED_BY"), os.getpid()


def test_workers_started_before_the_run_are_warmed_and_grade_it_and_unused_ones_stop():
    pool = LocalPool(workers=2)
    pool.start(WarmedGrader(), tasks=5)
    seen = [outcome for _, outcome in pool.run(WarmedGrader(), [(f"s{i}", "{}") for i in range(5)])]
    assert len(seen) == 5 and all(warmed == str(pid) for warmed, pid in seen)
    assert len({pid for _, pid in seen}) <= 2
    others = set(multiprocessing.active_children())  # the Dask cluster's, while the module's fixture lives
    pool.start(WarmedGrader(), tasks=1)
    assert len(set(multiprocessing.active_children()) - others) == 1
    pool.close()  # a run that never came: its worker stops
    assert set(multiprocessing.active_children()) <= others


WAYS_OF_STARTING = """
import threading
from pathlib import Path
from autograder import course, executors
for assignment_id in course.assignment_ids(Path(".")):  # `grade` loads them before it starts its pool
    course.load(Path("."), assignment_id).checks
ways = [executors._process_context().get_start_method()]
stop = threading.Event()
waiting = threading.Thread(target=stop.wait)
waiting.start()
ways.append(executors._process_context().get_start_method())
stop.set()
waiting.join()
import keras
ways.append(executors._process_context().get_start_method())
print(*ways)
"""


def test_a_pool_forks_a_process_that_runs_one_thread_and_no_framework_and_spawns_otherwise():
    """`grade` loads the checks, which load no framework, then starts its pool, so its workers are forks that
    start at once with them; a pool made later (a lost task's rerun, with the progress bar's thread running
    and Keras started) gets fresh processes."""
    done = subprocess.run([sys.executable, "-c", WAYS_OF_STARTING], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=120)
    assert done.stdout.split() == ["fork", "spawn", "spawn"], done.stderr[-2000:]
