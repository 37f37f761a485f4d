"""What one submission may use, how its time is measured, and which limit an error means.

Time limits are on the kernel's CPU time, not the wall clock: the same notebook does the
same work whether the machine is idle or every core is busy, so it gets the same grade.
This is how programming judges (IOI, DOMjudge, Kattis) keep time fair. The kernel's numeric
libraries run single-threaded (`SINGLE_THREADED`), so a training step costs the same CPU
time on 2 cores as on 64; a grading machine gets its parallelism from grading several
submissions at once. A cell that waits instead of computing (`time.sleep`, a blocked read)
uses no CPU time, so the wall clock still stops it, at `WALL_FACTOR` times its limit: a
kernel that gets at least 1/WALL_FACTOR of a core computes to its CPU limit first.
"""
import signal
from dataclasses import dataclass

import psutil

from .outcome import Status

WALL_FACTOR = 3
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                   "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


@dataclass
class Limits:
    """What one submission may use. Time limits hold everywhere; the rest need the sandbox.

    Assignments set their own in the source notebook's metadata; instructors
    override them on the command line.
    """

    cell_timeout: float = 60  # CPU seconds per cell and per probe (wall clock: WALL_FACTOR times that)
    notebook_timeout: float = 300  # CPU seconds for each kernel's whole run (wall clock: WALL_FACTOR times)
    cpu_seconds: float = 600  # CPU time of each kernel process (RLIMIT_CPU), whatever it runs
    memory_mb: int = 2048  # heap of each process (RLIMIT_DATA) and, with slack, its cgroup
    processes: int = 256  # processes and threads (TensorFlow starts dozens of threads)
    file_size_mb: int = 64  # largest file the kernel may write
    disk_mb: int = 256  # each writable tmpfs: the scratch home and /tmp
    output_kb: int = 1024  # all output the notebook and probes print or display

    @classmethod
    def names(cls):
        return list(cls.__dataclass_fields__)


def limit_status(error_type, message):
    """The named status of a limit behind an error the student's code raised, or None."""
    if error_type.endswith("MemoryError"):  # numpy raises its own _ArrayMemoryError
        return Status.MEMORY
    if "[Errno 27]" in message:  # EFBIG: RLIMIT_FSIZE
        return Status.FILE_SIZE
    if "[Errno 28]" in message:  # ENOSPC: the tmpfs is full
        return Status.DISK_SPACE
    if error_type == "BlockingIOError" and "[Errno 11]" in message:  # EAGAIN from fork: process limit
        return Status.PROCESSES
    return None


def exit_cause(returncode):
    """(status, message) for a kernel process that ended with `returncode` (shell style: 128+signal)."""
    if returncode is not None and returncode > 128:
        returncode = -(returncode - 128)
    if returncode == -signal.SIGXCPU:
        return Status.CPU_TIME, "the kernel used up its CPU time and was stopped"
    if returncode is not None and returncode < 0:
        return Status.KERNEL_DIED, f"the kernel died ({signal.Signals(-returncode).name})"
    return Status.KERNEL_DIED, f"the kernel died (the process exited with status {returncode})"


class KernelClock:
    """The CPU time a kernel has used: every process of its tree, every thread, and the
    children it has already reaped. `pid` is the process the kernel was launched as; its
    `cgroup`, where it has one that keeps the time, is read instead of the tree."""

    def __init__(self, pid, cgroup=None):
        self._root = psutil.Process(pid) if pid else None
        self._cgroup = cgroup

    def cpu(self):
        counted = self._cgroup.cpu_seconds() if self._cgroup else None
        if counted is not None:
            return counted
        if self._root is None:
            return 0.0
        try:
            tree = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:  # the kernel is gone: its time no longer matters
            return 0.0
        total = 0.0
        for process in tree:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total
