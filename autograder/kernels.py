"""The kernels of one submission, and which of them answers a probe.

A function the contract calls NumPy-only is probed in a kernel where nothing but NumPy, the
standard library and the kernel's own packages can be imported (`packages`, `sandbox.Jail`),
so a forbidden library cannot contribute to its result whatever path reaches it: an alias,
`exec`, `importlib`, a magic. Every other probe runs in the kernel that has the assignment's
allowed libraries. Each kernel runs the notebook first: the unconfined one all of it, and it
reports the notebook's own failures (its outputs are the student's); the confined one up to the
last cell a student writes (the closing cells are the instructor's demos, and a contract function
gets what it needs as arguments), and its failures there (a plot, `keras.Input`) are expected.

Each kernel lives on a thread of its own, so the two start and run the notebook at the same time,
and the checks begin as soon as the kernel they ask is ready.
"""
import copy
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack

from . import notebook


class KernelThread:
    """One kernel on a thread of its own: it opens and runs the notebook there, answers probes there, and
    shuts down there.

    A kernel client belongs to the thread whose event loop opened it, and the kernel's launcher dies
    with the thread that started it (`sandbox.dies_with`), so everything happens on one thread, which
    outlives the kernel.
    """

    def __init__(self, open_kernel, skip):
        self._stack = ExitStack()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel")
        self._ran = self._thread.submit(self._run, open_kernel, skip)

    def _run(self, open_kernel, skip):
        session = self._stack.enter_context(open_kernel())
        return session, session.run_notebook(skip=skip)

    def _on_thread(self, use):
        """`use(session)` on the kernel's thread, once it has run the notebook (raises what opening it raised)."""
        return self._thread.submit(lambda: use(self._ran.result()[0])).result()

    def trips(self):
        """The Trips of the kernel's run of the notebook, once it has run."""
        return self._ran.result()[1]

    def probe(self, code, inputs):
        return self._on_thread(lambda session: session.probe(code, inputs))

    def notebook(self):
        return self._on_thread(lambda session: session.notebook)

    def close(self):
        """Start shutting the kernel down, after whatever its thread is doing; return the Future of that."""
        closed = self._thread.submit(self._stack.close)
        self._thread.shutdown(wait=False)  # the thread ends once it has shut the kernel down
        return closed


class Kernels:
    """Starts the submission's kernels on entry and shuts them all down on exit."""

    def __init__(self, executor, nb, workdir, numpy_only, skip):
        self._executor, self._nb, self._workdir, self._skip = executor, nb, workdir, skip
        self._numpy_only = frozenset(numpy_only) if executor.confines else frozenset()
        self._kernels = {}

    def __enter__(self):
        """Start the unconfined kernel and, where the executor confines, the NumPy-only one beside it."""
        for confined in (False, True)[:1 + bool(self._numpy_only)]:
            self._kernels[confined] = KernelThread(lambda confined=confined: self._open(confined), self._skip)
        return self

    def __exit__(self, *exc_info):
        """Shut every kernel down at once, and wait until all are."""
        closing = [kernel.close() for kernel in self._kernels.values()]
        wait(closing)
        for closed in closing:
            closed.result()  # raises what shutting one down raised

    def notebook_trips(self):
        """The Trips of the unconfined kernel's run of the notebook (a cell that failed)."""
        return self._kernels[False].trips()

    def executed(self):
        """The notebook as the unconfined kernel ran it: the student's own outputs."""
        return self._kernels[False].notebook()

    def session(self, functions):
        """What answers a probe calling `functions`: the NumPy-only kernel when they all are, else the other."""
        return self._kernels[bool(functions) and set(functions) <= self._numpy_only]

    def _open(self, confined):
        # each kernel gets its own copy: nbclient writes outputs into the notebook it runs
        nb = notebook.without_closing_demos(self._nb) if confined else copy.deepcopy(self._nb)
        return self._executor.open(nb, self._workdir, numpy_only=confined)
