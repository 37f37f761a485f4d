"""Where grading tasks run: a pool of local processes, or the workers of a Dask cluster.

Both run a `grading.Grader` on (student_id, notebook JSON) tasks and yield (student_id, the
result dict, or the exception that lost the task: a worker that died). They never write
anything; the coordinator records what they yield.
"""
import multiprocessing
import operator
import os
import sys
import threading
from contextlib import suppress
from concurrent.futures import ProcessPoolExecutor, as_completed

from . import gpus, logs

DASK_HELP = "the Dask executor needs the `dask` extra: pip install 'autograder[dask]'"
FRAMEWORKS = ("tensorflow", "keras", "jax", "torch")  # their threads and devices do not survive a fork


class ExecutorUnavailable(RuntimeError):
    """The executor asked for cannot run here: no Dask installed, no scheduler, no GPU."""


def cores():
    """The cores this process may run on (a CI container's share, not the host's count)."""
    return len(os.sched_getaffinity(0))


def _process_context():
    """How a pool makes its processes: forked while this process runs one thread and has started no framework
    (the workers start at once, with what it has imported: `grade` loads the checks, then starts its pool),
    spawned afresh otherwise (a lock another thread holds, or a framework's state, would be copied broken)."""
    if threading.active_count() == 1 and not any(name in sys.modules for name in FRAMEWORKS):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _start_worker(devices, native_stderr, warm):
    """Pool worker start-up: take the next GPU of `devices` (a queue; None on CPU), send what native
    libraries write to the process's stderr (TensorFlow's absl lines) to `native_stderr`, then `warm`
    (load the assignment) if given: best effort, since a task that cannot load it reports why itself."""
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(devices.get())
    logs.redirect_stderr(native_stderr)
    if warm is not None:
        with suppress(Exception):
            warm()


class LocalPool:
    """Fresh processes on this machine: one per core, or one per GPU, each pinned to its own."""

    def __init__(self, workers=None, gpu_indices=(), native_stderr=os.devnull):
        self.gpu_indices = list(gpu_indices)
        if self.gpu_indices:  # never two workers on one GPU
            self.workers = min(workers or len(self.gpu_indices), len(self.gpu_indices))
        else:
            self.workers = workers or cores()
        self.native_stderr = native_stderr
        self._started = None  # the pool `start` made for the next run

    def describe(self):
        device = f"GPUs {', '.join(map(str, self.gpu_indices))}" if self.gpu_indices else "CPU"
        return f"{self.workers} local worker{'s' * (self.workers != 1)} on {device}"

    def start(self, grader, tasks):
        """Spawn the workers the next run needs (one per task at most) now, each loading the assignment, so
        they start while this process still prepares the gradebook."""
        workers = self._size(tasks)
        self._started = self._pool(workers, grader.warm)
        for _ in range(workers):
            self._started.submit(os.getpid)  # a pool makes a process per task while none is idle

    def close(self):
        """Stop workers started for a run that never came."""
        if self._started:
            self._started.shutdown(cancel_futures=True)

    def _size(self, tasks):
        return max(1, min(self.workers, tasks))

    def _pool(self, workers, warm=None):
        context = _process_context()
        devices = None
        if self.gpu_indices:  # one worker per GPU at most, each on its own
            devices = context.Queue()
            for index in self.gpu_indices[:workers]:
                devices.put(index)
        return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                                   initargs=(devices, self.native_stderr, warm))

    def run(self, grader, tasks):
        """Grade (student_id, notebook JSON) `tasks`, taken as they come (a generator that restores each only when
        asked keeps the workers busy meanwhile); yield (student_id, result, or the error that lost the worker)."""
        pool, self._started = self._started or self._pool(self._size(operator.length_hint(tasks, self.workers))), None
        with pool:
            futures = {pool.submit(grader, student_id, nb): student_id for student_id, nb in tasks}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except Exception as error:  # the worker process died (BrokenProcessPool) or could not start
                    yield futures[future], error


class DaskCluster:
    """The workers of a running Dask scheduler; each runs one task at a time (`--nthreads 1`).

    A task that needs a GPU asks for the `GPU` resource, which GPU workers advertise
    (`dask worker ... --resources GPU=1`, with CUDA_VISIBLE_DEVICES naming its GPU).
    """

    def __init__(self, scheduler, gpu=False):
        try:
            import distributed
        except ImportError:
            raise ExecutorUnavailable(DASK_HELP) from None
        self._distributed = distributed
        self.scheduler, self.gpu = scheduler, gpu
        if not scheduler:
            raise ExecutorUnavailable("--executor dask needs --scheduler tcp://HOST:8786")
        try:
            self._client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as error:
            raise ExecutorUnavailable(f"no Dask scheduler answers at {scheduler}: {error}") from None

    def describe(self):
        workers = self._client.scheduler_info()["workers"]
        return f"{len(workers)} Dask worker{'s' * (len(workers) != 1)} at {self.scheduler}"

    def start(self, grader, tasks):
        """Nothing to start: the cluster's workers are running, and load the assignment with their first task."""

    def close(self):
        self._client.close()

    def run(self, grader, tasks):
        resources = {"GPU": 1} if self.gpu else None
        futures = {self._client.submit(grader, student_id, nb, pure=False, resources=resources): student_id
                   for student_id, nb in tasks}
        for future in self._distributed.as_completed(futures):
            try:
                yield futures[future], future.result()
            except Exception as error:  # KilledWorker: the worker died, more than the scheduler retries
                yield futures[future], error
            finally:
                future.release()


def pick(executor, workers=None, scheduler=None, device="auto", native_stderr=os.devnull):
    """The executor the command line asks for. Locally, `auto` grades on this machine's GPUs where it
    has any; on Dask, `gpu` sends every task to a worker with the GPU resource."""
    if executor == "dask":
        return DaskCluster(scheduler, gpu=device == "gpu")
    gpu_indices = gpus.visible() if device in ("auto", "gpu") else []
    if device == "gpu" and not gpu_indices:
        raise ExecutorUnavailable("--device gpu: this machine has no NVIDIA GPU (no /dev/nvidia<N>)")
    return LocalPool(workers, gpu_indices, native_stderr)
