"""Run a student notebook in its own kernel and collect witness data from it.

This is the only module that talks to the student's process. The judge sees a
`KernelSession` with two operations, `run_notebook()` and `probe(code, inputs)`;
`LocalKernel` starts an unconfined kernel and `sandbox.SandboxedKernel` a
confined one, without the judge knowing which.
"""
import inspect
import os
import subprocess
import time
from contextlib import contextmanager

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from . import harness, wire
from .limits import SINGLE_THREADED, WALL_FACTOR, KernelClock, Limits, exit_cause, limit_status
from .metering import CellAllowance, GradingKernelManager, Meter
from .outcome import Status, Trip

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
        f"{PROBE_CALL} = __autograder_boot()\n"
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


TIMED_OUT = "AutograderCellTimeout"
PROBE_CALL = "__autograder_run"


class CellTimedOut(RuntimeError):
    """A cell ran past its limit; the kernel was interrupted and answers again."""


class KernelSession:
    """One live kernel running one submission's notebook."""

    def __init__(self, client, limits, clock, death_cause):
        self._client = client
        self._limits = limits
        self._clock = clock
        self._death_cause = death_cause  # () -> (status, message) once the kernel is gone
        self._started = clock.cpu(), time.monotonic()
        self._booted = False
        self._last_error = None
        self.broken = None
        self._meter = Meter(int(limits.output_kb * 1024))
        client.kc.meter_with(self._meter)
        client.on_cell_executed = self._remember_reply

    @property
    def notebook(self):
        """The notebook this kernel runs, with the outputs its cells have given so far."""
        return self._client.nb

    def _remember_reply(self, cell, cell_index, execute_reply):
        self._last_error = execute_reply.get("content", {}).get("ename")

    def _run_cell(self, cell, index, cpu_seconds, wall_seconds, probe=False):
        """Execute one cell; return why it was stopped ("CPU" or "wall" time: nbclient then interrupts it), or None."""
        self._client.timeout = max(1, int(wall_seconds))
        self._last_error = None
        allowance = CellAllowance(self._clock, cpu_seconds)
        self._meter.start_cell(allowance, cell.source, probe)
        try:
            self._client.execute_cell(cell, index)
        except DeadKernelError:
            self.broken = SessionBroken(*self._death_cause())
        except (ValueError, KeyError, TypeError, AttributeError) as error:  # a message that is not Jupyter's protocol
            self.broken = SessionBroken(Status.PROTOCOL_ERROR, f"the kernel sent a malformed message ({error})"[:300])
        finally:
            self._meter.end_cell()
        if self._meter.exceeded:
            self.broken = SessionBroken(Status.OUTPUT_LIMIT,
                                        f"the output passed the {self._limits.output_kb:g} KB limit")
        if self.broken:
            raise self.broken
        if self._last_error != TIMED_OUT:
            return None
        return "CPU" if allowance.used_up else "wall"

    def _left(self):
        """(CPU seconds, wall seconds) the notebook's limit still allows this kernel."""
        cpu, wall = self._started
        limit = self._limits.notebook_timeout
        return limit - (self._clock.cpu() - cpu), WALL_FACTOR * limit - (time.monotonic() - wall)

    def _execute(self, cell, index, probe=False):
        """Execute one cell within the per-cell and remaining notebook time; raise CellTimedOut."""
        if self.broken:
            raise self.broken
        cpu_left, wall_left = self._left()
        if min(cpu_left, wall_left) <= 0:
            self.broken = SessionBroken(Status.TIMEOUT, "the notebook ran past its "
                                        f"{self._limits.notebook_timeout:g} s limit")
            raise self.broken
        cpu_seconds = min(self._limits.cell_timeout, cpu_left)
        wall_seconds = min(WALL_FACTOR * self._limits.cell_timeout, wall_left)
        stopped = self._run_cell(cell, index, cpu_seconds, wall_seconds, probe)
        if stopped:
            self._check_responsive()
            raise CellTimedOut(f"ran past {cpu_seconds:g} s" if stopped == "CPU" else
                               f"waited past {wall_seconds:g} s of wall-clock time ({WALL_FACTOR} times its "
                               f"{cpu_seconds:g} s limit: it was not computing)")

    def _execute_extra(self, cell, probe=False):
        """Execute a grader-made cell after the notebook's own (nbclient indexes cells in nb)."""
        cells = self._client.nb.cells
        cells.append(cell)
        try:
            self._execute(cell, len(cells) - 1, probe)
        finally:
            cells.pop()

    def _check_responsive(self):
        """After an interrupt the kernel must answer again, or the session is broken."""
        cells = self._client.nb.cells
        cells.append(nbformat.v4.new_code_cell("pass"))
        try:
            if self._run_cell(cells[-1], len(cells) - 1, RECOVERY_TIMEOUT, RECOVERY_TIMEOUT):
                self.broken = SessionBroken(Status.TIMEOUT, "the kernel stopped answering after a time limit")
        finally:
            cells.pop()

    def run_notebook(self, skip=lambda cell: False):
        """Run every code cell not skipped; return a Trip for each that failed (errors are recorded, not raised)."""
        failures = []
        for index, cell in enumerate(self._client.nb.cells):
            if cell.cell_type != "code" or skip(cell):
                continue
            grade_id = _grade_id(cell)
            label = f"cell '{grade_id}'" if grade_id else f"cell {index + 1}"
            try:
                self._execute(cell, index)
            except CellTimedOut as timeout:
                failures.append(Trip(Status.TIMEOUT, f"{label} {timeout}", grade_id))
                continue
            except SessionBroken as broken:
                failures.append(Trip(broken.status, f"{label}: {broken}", grade_id))
                break
            error = _error(cell.get("outputs", []))
            if error:
                failures.append(Trip(limit_status(*error), f"{label} raised {error[1]}", grade_id))
        return failures

    def probe(self, code, inputs):
        """Run grader code with `inputs` bound; return the decoded witness dict."""
        if not self._booted:
            self._execute_extra(nbformat.v4.new_code_cell(_boot_source()))
            self._booted = True
        # the inputs go in a cell of their own: a traceback quotes the call line, and must stay small
        self._execute_extra(nbformat.v4.new_code_cell(f"__autograder_inputs = {wire.encode(inputs)!r}"))
        cell = nbformat.v4.new_code_cell(f"{PROBE_CALL}({code!r}, __autograder_inputs)")
        self._execute_extra(cell, probe=True)
        texts = [out["data"][harness.WITNESS_MIME] for out in cell.outputs
                 if out.get("output_type") == "display_data" and harness.WITNESS_MIME in out.get("data", {})]
        if not texts:
            raise wire.WireError(_error_text(cell.outputs) or "the probe produced no output")
        witness = wire.decode(texts[-1])
        if not isinstance(witness, dict):
            raise wire.WireError("the probe output is not a record")
        return witness


class LocalKernel:
    """Starts a plain local Jupyter kernel: no isolation beyond a separate process.

    Only the time and output limits hold; use it for students' own checks and
    for `grade --unsafe-no-sandbox`.
    """

    kernel_name = "python3"
    confines = False  # cannot give the NumPy-only functions a kernel of their own: the run-time policy is off
    cgroup = "none: not sandboxed"

    def __init__(self, limits=None, execution="autograde"):
        self.limits = limits or Limits()
        self.execution = execution

    def settings(self):
        """Variables every kernel gets, confined or not.

        NBGRADER_EXECUTION is nbgrader's own convention ("autograde" or "validate"):
        notebooks use it to skip demos, such as training on a full corpus, while graded.
        Frameworks are told to stay quiet and, on a GPU, to take memory as they need it, and
        numeric libraries to compute on one thread (`limits`: time limits are on CPU time).
        """
        return {"MPLBACKEND": "agg", "NBGRADER_EXECUTION": self.execution, **QUIET_FRAMEWORKS, **SINGLE_THREADED}

    def environment(self):
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "VIRTUAL_ENV", "TMPDIR", "KERAS_BACKEND")
        return {**{name: os.environ[name] for name in keep if name in os.environ}, **self.settings()}

    def _client(self, nb, workdir, **options):
        # shut down at once: the outputs are in, and a graceful shutdown waits for the kernel to leave
        return NotebookClient(nb, kernel_name=self.kernel_name, allow_errors=True,
                              kernel_manager_class=GradingKernelManager, shutdown_kernel="immediate",
                              interrupt_on_timeout=True, record_timing=False,
                              error_on_timeout={"ename": TIMED_OUT, "evalue": "", "traceback": []},
                              resources={"metadata": {"path": str(workdir)}}, **options)

    @staticmethod
    def _process(client):
        """The process the kernel was launched as (a Popen), or None."""
        return getattr(getattr(client.km, "provisioner", None), "process", None)

    def _returncode(self, client):
        process = self._process(client)
        return process.poll() if process else None

    def _session(self, client, death_cause, cgroup=None):
        process = self._process(client)
        return KernelSession(client, self.limits, KernelClock(process and process.pid, cgroup), death_cause)

    @contextmanager
    def open(self, nb, workdir, numpy_only=False):
        """Start a kernel in `workdir` for `nb` and yield its KernelSession; always shut it down."""
        client = self._client(nb, workdir)
        with client.setup_kernel(env=self.environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            yield self._session(client, lambda: exit_cause(self._returncode(client)))
