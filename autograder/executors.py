"""Where grading tasks run: a pool of local processes, or the workers of a Dask cluster.

Both run a `grading.Grader` on (student_id, notebook JSON) tasks and yield (student_id, the
result dict, or the exception that lost the task: a worker that died). They never write
anything; the coordinator records what they yield.
"""
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from . import gpus, logs

DASK_HELP = "the Dask executor needs the `dask` extra: pip install 'autograder[dask]'"


class ExecutorUnavailable(RuntimeError):
    """The executor asked for cannot run here: no Dask installed, no scheduler, no GPU."""


def cores():
    """The cores this process may run on (a CI container's share, not the host's count)."""
    return len(os.sched_getaffinity(0))


def _start_worker(devices, native_stderr):
    """Pool worker start-up: take the next GPU of `devices` (a queue; None on CPU), and send what native
    libraries write to the process's stderr (TensorFlow's absl lines) to `native_stderr`."""
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(devices.get())
    logs.redirect_stderr(native_stderr)


class LocalPool:
    """Fresh spawned processes on this machine: one per core, or one per GPU, each pinned to its own."""

    def __init__(self, workers=None, gpu_indices=(), native_stderr=os.devnull):
        self.gpu_indices = list(gpu_indices)
        if self.gpu_indices:  # never two workers on one GPU
            self.workers = min(workers or len(self.gpu_indices), len(self.gpu_indices))
        else:
            self.workers = workers or cores()
        self.native_stderr = native_stderr

    def describe(self):
        device = f"GPUs {', '.join(map(str, self.gpu_indices))}" if self.gpu_indices else "CPU"
        return f"{self.workers} local worker{'s' * (self.workers != 1)} on {device}"

    def close(self):
        """Nothing to release: each run's processes end with it."""

    def run(self, grader, tasks):
        tasks = list(tasks)
        if not tasks:
            return
        workers = max(1, min(self.workers, len(tasks)))
        context = multiprocessing.get_context("spawn")
        devices = None
        if self.gpu_indices:  # one worker per GPU at most, each on its own
            devices = context.Queue()
            for index in self.gpu_indices[:workers]:
                devices.put(index)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                                 initargs=(devices, self.native_stderr)) as pool:
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
