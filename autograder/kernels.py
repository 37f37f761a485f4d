"""The kernels of one submission, and which of them answers a probe.

A function the contract calls NumPy-only is probed in a kernel where nothing but NumPy, the
standard library and the kernel's own packages can be imported (`packages`, `sandbox.Jail`),
so a forbidden library cannot contribute to its result whatever path reaches it: an alias,
`exec`, `importlib`, a magic. Every other probe runs in the kernel that has the assignment's
allowed libraries. Each kernel runs the whole notebook first; the unconfined one reports the
notebook's own failures (and its outputs are the student's), the confined one opens only when a
probe needs it, and its notebook failures (a plot, `keras.Input` there) are expected.
"""
import copy
from contextlib import ExitStack


class Kernels:
    """Opens the submission's kernels as probes need them and closes them all on exit."""

    def __init__(self, executor, nb, workdir, numpy_only, skip):
        self._executor, self._nb, self._workdir, self._skip = executor, nb, workdir, skip
        self._numpy_only = frozenset(numpy_only) if executor.confines else frozenset()
        self._sessions = {}
        self._stack = ExitStack()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return self._stack.__exit__(*exc_info)

    def run_notebook(self):
        """Open the unconfined kernel; return the Trips of its run of the notebook (a cell that failed)."""
        return self._open(False)

    def executed(self):
        """The notebook as the unconfined kernel ran it (the student's own outputs), or None before it opened."""
        session = self._sessions.get(False)
        return session and session.notebook

    def session(self, functions):
        """The KernelSession that answers a probe calling `functions` (the NumPy-only kernel when they all are),
        opened, and its notebook run, on first use."""
        confined = bool(functions) and set(functions) <= self._numpy_only
        if confined not in self._sessions:
            self._open(confined)
        return self._sessions[confined]

    def _open(self, confined):
        # each kernel gets its own copy: nbclient writes outputs into the notebook it runs
        session = self._stack.enter_context(
            self._executor.open(copy.deepcopy(self._nb), self._workdir, numpy_only=confined))
        self._sessions[confined] = session
        return session.run_notebook(skip=self._skip)
