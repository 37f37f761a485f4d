"""Run a student notebook in its own kernel and collect witness data from it.

This is the only module that talks to the student's process. The judge sees a
`KernelSession` with two operations, `run_notebook()` and `probe(code, inputs)`;
`LocalKernel` starts an unconfined kernel and `sandbox.SandboxedKernel` a
confined one, without the judge knowing which.
"""
import asyncio
import inspect
import json
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from . import harness, wire

RECOVERY_TIMEOUT = 10
# TensorFlow quiet; TensorFlow and JAX take GPU memory as they need it instead of all of it at start,
# so a kernel and a grader can share one GPU.
QUIET_FRAMEWORKS = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_FORCE_GPU_ALLOW_GROWTH": "true",
                    "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


class SessionBroken(RuntimeError):
    """The kernel died or stopped answering; nothing more can run in it."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


@dataclass
class Limits:
    """What one submission may use. Time limits hold everywhere; the rest need the sandbox.

    Assignments set their own in the source notebook's metadata; instructors
    override them on the command line.
    """

    cell_timeout: float = 60  # wall-clock seconds per cell and per probe
    notebook_timeout: float = 300  # wall-clock seconds for the whole submission
    cpu_seconds: float = 600  # CPU time of the kernel process
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
        return "memory"
    if "[Errno 27]" in message:  # EFBIG: RLIMIT_FSIZE
        return "file-size"
    if "[Errno 28]" in message:  # ENOSPC: the tmpfs is full
        return "disk-space"
    if error_type == "BlockingIOError" and "[Errno 11]" in message:  # EAGAIN from fork: process limit
        return "processes"
    return None


@dataclass
class CellFailure:
    """A notebook cell that raised or timed out while the notebook ran."""

    grade_id: str  # nbgrader's id of the cell, or None
    kind: str  # "error", "timeout", a limit_status or a broken session's status
    message: str


def _boot_source():
    return (
        "def __autograder_boot():\n"
        "    import types\n"
        "    from IPython.display import display\n"
        "    wire = types.ModuleType('autograder_wire')\n"
        f"    exec({inspect.getsource(wire)!r}, wire.__dict__)\n"
        "    harness = {}\n"
        f"    exec({inspect.getsource(harness)!r}, harness)\n"
        "    return harness['make_runner'](wire, globals(), display)\n"
        "__autograder_run = __autograder_boot()\n"
        "del __autograder_boot\n"
    )


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _error(outputs):
    """(type, text) of the first error output, or None."""
    for output in outputs:
        if output.get("output_type") == "error":
            ename, evalue = str(output.get("ename", "Error")), str(output.get("evalue", ""))
            return ename, f"{ename}: {evalue}"[:500]
    return None


def _error_text(outputs):
    error = _error(outputs)
    return error and error[1]


class GradingClient(NotebookClient):
    """nbclient with a cap on everything the kernel sends back, so no output can flood the grader.

    Only the one witness a probe expects, and the kernel's echo of the code the
    grader sent (`execute_input`), are exempt; past the cap, messages are dropped
    and the running cell is interrupted.
    """

    output_limit = 1 << 20
    output_bytes = 0
    output_exceeded = False
    witness_allowance = 0

    def process_message(self, msg, cell, cell_index):
        content = msg.get("content", {})
        if msg["msg_type"] not in ("status", "execute_input"):
            size = len(json.dumps(content, default=str))
            if self.witness_allowance and harness.WITNESS_MIME in content.get("data", {}) \
                    and size <= 2 * wire.MAX_WIRE_BYTES:
                self.witness_allowance -= 1
            else:
                self.output_bytes += size
            if self.output_bytes > self.output_limit:
                if not self.output_exceeded:
                    self.output_exceeded = True
                    asyncio.ensure_future(self.km.interrupt_kernel())
                return None
        return super().process_message(msg, cell, cell_index)


TIMED_OUT = "AutograderCellTimeout"


class CellTimedOut(RuntimeError):
    """A cell ran past its limit; the kernel was interrupted and answers again."""


class KernelSession:
    """One live kernel running one submission's notebook."""

    def __init__(self, client, limits, death_cause):
        self._client = client
        self._limits = limits
        self._death_cause = death_cause  # () -> (status, message) once the kernel is gone
        self._deadline = time.monotonic() + limits.notebook_timeout
        self._booted = False
        self._last_error = None
        self.broken = None
        client.output_limit = int(limits.output_kb * 1024)
        client.on_cell_executed = self._remember_reply

    def _remember_reply(self, cell, cell_index, execute_reply):
        self._last_error = execute_reply.get("content", {}).get("ename")

    def _run_cell(self, cell, index, timeout):
        """Execute one cell; return True when it ran past `timeout` (nbclient then interrupts it)."""
        self._client.timeout = max(1, int(timeout))
        self._last_error = None
        try:
            self._client.execute_cell(cell, index)
        except DeadKernelError:
            self.broken = SessionBroken(*self._death_cause())
            raise self.broken from None
        except (ValueError, KeyError, TypeError, AttributeError) as error:  # a message that is not Jupyter's protocol
            self.broken = SessionBroken("protocol-error", f"the kernel sent a malformed message ({error})"[:300])
            raise self.broken from None
        if self._client.output_exceeded:
            self.broken = SessionBroken("output-limit", f"the output passed the {self._limits.output_kb:g} KB limit")
            raise self.broken
        return self._last_error == TIMED_OUT

    def _execute(self, cell, index):
        """Execute one cell within the per-cell and remaining notebook time; raise CellTimedOut."""
        if self.broken:
            raise self.broken
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            self.broken = SessionBroken("timeout", "the notebook ran past its "
                                        f"{self._limits.notebook_timeout:g} s limit")
            raise self.broken
        timeout = min(self._limits.cell_timeout, remaining)
        if self._run_cell(cell, index, timeout):
            self._check_responsive()
            raise CellTimedOut(f"ran past {timeout:g} s")

    def _execute_extra(self, cell):
        """Execute a grader-made cell after the notebook's own (nbclient indexes cells in nb)."""
        cells = self._client.nb.cells
        cells.append(cell)
        try:
            self._execute(cell, len(cells) - 1)
        finally:
            cells.pop()

    def _check_responsive(self):
        """After an interrupt the kernel must answer again, or the session is broken."""
        cells = self._client.nb.cells
        cells.append(nbformat.v4.new_code_cell("pass"))
        try:
            if self._run_cell(cells[-1], len(cells) - 1, RECOVERY_TIMEOUT):
                self.broken = SessionBroken("timeout", "the kernel stopped answering after a time limit")
        finally:
            cells.pop()

    def run_notebook(self, skip=lambda cell: False):
        """Run every code cell not skipped; return the CellFailures (errors are recorded, not raised)."""
        failures = []
        for index, cell in enumerate(self._client.nb.cells):
            if cell.cell_type != "code" or skip(cell):
                continue
            grade_id = _grade_id(cell)
            label = f"cell '{grade_id}'" if grade_id else f"cell {index + 1}"
            try:
                self._execute(cell, index)
            except CellTimedOut as timeout:
                failures.append(CellFailure(grade_id, "timeout", f"{label} {timeout}"))
                continue
            except SessionBroken as broken:
                failures.append(CellFailure(grade_id, broken.status, f"{label}: {broken}"))
                break
            error = _error(cell.get("outputs", []))
            if error:
                kind = limit_status(*error) or "error"
                failures.append(CellFailure(grade_id, kind, f"{label} raised {error[1]}"))
        return failures

    def probe(self, code, inputs):
        """Run grader code with `inputs` bound; return the decoded witness dict."""
        if not self._booted:
            self._execute_extra(nbformat.v4.new_code_cell(_boot_source()))
            self._booted = True
        # the inputs go in a cell of their own: a traceback quotes the call line, and must stay small
        self._execute_extra(nbformat.v4.new_code_cell(f"__autograder_inputs = {wire.encode(inputs)!r}"))
        cell = nbformat.v4.new_code_cell(f"__autograder_run({code!r}, __autograder_inputs)")
        self._client.witness_allowance = 1
        self._execute_extra(cell)
        texts = [out["data"][harness.WITNESS_MIME] for out in cell.outputs
                 if out.get("output_type") == "display_data" and harness.WITNESS_MIME in out.get("data", {})]
        if not texts:
            raise wire.WireError(_error_text(cell.outputs) or "the probe produced no output")
        witness = wire.decode(texts[-1])
        if not isinstance(witness, dict):
            raise wire.WireError("the probe output is not a record")
        return witness


def exit_cause(returncode):
    """(status, message) for a kernel process that ended with `returncode` (shell style: 128+signal)."""
    if returncode is not None and returncode > 128:
        returncode = -(returncode - 128)
    if returncode == -signal.SIGXCPU:
        return "cpu-time", "the kernel used up its CPU time and was stopped"
    if returncode is not None and returncode < 0:
        return "kernel-died", f"the kernel died ({signal.Signals(-returncode).name})"
    return "kernel-died", f"the kernel died (the process exited with status {returncode})"


class LocalKernel:
    """Starts a plain local Jupyter kernel: no isolation beyond a separate process.

    Only the time and output limits hold; use it for students' own checks and
    for `grade --unsafe-no-sandbox`.
    """

    kernel_name = "python3"
    confines = False  # cannot give the NumPy-only functions a kernel of their own: the run-time policy is off

    def __init__(self, limits=None, execution="autograde"):
        self.limits = limits or Limits()
        self.execution = execution

    def settings(self):
        """Variables every kernel gets, confined or not.

        NBGRADER_EXECUTION is nbgrader's own convention ("autograde" or "validate"):
        notebooks use it to skip demos, such as training on a full corpus, while graded.
        Frameworks are told to stay quiet and, on a GPU, to take memory as they need it.
        """
        return {"MPLBACKEND": "agg", "NBGRADER_EXECUTION": self.execution, **QUIET_FRAMEWORKS}

    def environment(self):
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "VIRTUAL_ENV", "TMPDIR", "KERAS_BACKEND")
        return {**{name: os.environ[name] for name in keep if name in os.environ}, **self.settings()}

    def _client(self, nb, workdir, **options):
        return GradingClient(nb, kernel_name=self.kernel_name, allow_errors=True,
                             interrupt_on_timeout=True, record_timing=False,
                             error_on_timeout={"ename": TIMED_OUT, "evalue": "", "traceback": []},
                             resources={"metadata": {"path": str(workdir)}}, **options)

    @staticmethod
    def _returncode(client):
        process = getattr(getattr(client.km, "provisioner", None), "process", None)
        return process.poll() if process else None

    @contextmanager
    def open(self, nb, workdir, numpy_only=False):
        """Start a kernel in `workdir` for `nb` and yield its KernelSession; always shut it down."""
        client = self._client(nb, workdir)
        with client.setup_kernel(env=self.environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            yield KernelSession(client, self.limits, lambda: exit_cause(self._returncode(client)))
