"""Kernels started directly (no CLI): what each one gets, and what the grader records about it."""
import asyncio
import copy
import dataclasses
import os
import subprocess
import sys
import time
from queue import Empty

import nbformat
import psutil
import pytest

from autograder import cgroups, notebook, sandbox
from autograder.kernels import Kernels
from autograder.limits import KernelClock, Limits
from autograder.metering import GradingKernelManager

needs_root_sandbox = pytest.mark.skipif(os.geteuid() != 0, reason="private uids need a root grader")


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def _probe(executor, tmp_path, code):
    with executor.open(_notebook("x = 1"), tmp_path) as session:
        assert session.run_notebook() == []
        return session.probe(code, {})["result"]


@needs_root_sandbox
def test_each_kernel_of_a_grading_process_runs_as_a_uid_of_its_own(tmp_path):
    executor = sandbox.SandboxedKernel(Limits(cell_timeout=30))
    uids = [_probe(executor, tmp_path, "import os\nresult = os.getuid()") for _ in range(2)]
    assert uids[0] != uids[1] and min(uids) >= sandbox.UID_BASE and os.getuid() not in uids


def test_a_kernel_without_a_cgroup_says_why_in_what_the_result_records(tmp_path, monkeypatch):
    sandbox.check_available()
    monkeypatch.setattr(cgroups, "MOUNT", tmp_path / "no-cgroups")  # a machine whose cgroups are not writable
    executor = sandbox.SandboxedKernel(Limits(cell_timeout=30))
    assert _probe(executor, tmp_path, "result = 6 * 7") == 42
    assert executor.cgroup.startswith("none: ") and "only rlimits cap memory and processes" in executor.cgroup


def test_the_numpy_only_kernel_imports_other_packages_as_stand_ins_but_has_none_of_their_files(tmp_path):
    sandbox.check_available()
    ask = ("import sys\nout = []\ntry:\n    keras.layers.Dense(1)\nexcept ImportError as error:\n"
           "    out.append(str(error))\n"
           "sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, 'unavailable_finder', False)]\n"
           "for name in [name for name in sys.modules if name.partition('.')[0] == 'keras']:\n"
           "    del sys.modules[name]\n"
           "try:\n    import keras\n    out.append('imported')\nexcept ImportError as error:\n"
           "    out.append(type(error).__name__)\nresult = out")
    executor = sandbox.SandboxedKernel(Limits(cell_timeout=30))
    with executor.open(_notebook("import keras\nimport numpy as np"), tmp_path, numpy_only=True) as session:
        assert session.run_notebook() == []  # the import cell runs to its end
        assert session.probe(ask, {})["result"] == [
            "keras is not available here: this function may use only NumPy and the Python standard library",
            "ModuleNotFoundError"]  # without the stand-in's finder, nothing of Keras is there to import


def test_a_sandboxed_kernel_starts_without_ipykernels_debugger(tmp_path):
    sandbox.check_available()
    ask = ("from ipykernel import debugger\n"
           "try:\n    import debugpy\n    result = [debugger._is_debugpy_available, 'imported']\n"
           "except ImportError as error:\n    result = [debugger._is_debugpy_available, str(error)]")
    hidden = [False, "debugpy is not allowed in this assignment"]
    assert _probe(sandbox.SandboxedKernel(Limits(cell_timeout=30)), tmp_path, ask) == hidden


def test_a_plotting_kernel_reads_the_system_files_and_starts_from_the_graders_font_list(tmp_path, monkeypatch):
    """The files of /etc that docs/security.md lists are readable (fontconfig's own among them), and matplotlib in
    the kernel takes a copy of the grader's font list, which it may rewrite, instead of scanning every font."""
    sandbox.check_available()
    from matplotlib import font_manager
    graders = copy.copy(font_manager.fontManager)
    graders.ttflist = [*graders.ttflist, dataclasses.replace(graders.ttflist[0], name="Autograder Marker")]
    (tmp_path / "mpl").mkdir()
    font_manager.json_dump(graders, tmp_path / "mpl" / f"fontlist-v{font_manager.FontManager.__version__}.json")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    ask = ("import glob, os\nimport matplotlib.pyplot as plt\nfrom matplotlib import font_manager\n"
           "plt.plot([1, 2])\nplt.savefig('plot.png')\n"
           "result = [any(f.name == 'Autograder Marker' for f in font_manager.fontManager.ttflist),\n"
           "          [os.access(path, os.W_OK) for path in glob.glob(os.path.expanduser('~/.cache/matplotlib/*.json'))],\n"
           "          open('/etc/fonts/fonts.conf').read(5)]")
    (tmp_path / "work").mkdir()
    assert _probe(sandbox.SandboxedKernel(Limits(cell_timeout=30)), tmp_path / "work", ask) == [True, [True], "<?xml"]


def test_a_kernel_holds_no_descriptor_its_launcher_opened_for_bubblewrap(tmp_path, monkeypatch):
    """The launcher opens fd 3 (a seccomp filter) and fd 4 (a font list) only when bwrap takes them in, and bwrap
    closes what it takes: here neither kernel has a font list (the NumPy-only one never has), and neither holds
    fd 4 open on anything of the launcher's (the kernel's own sockets may reuse the numbers)."""
    sandbox.check_available()
    (tmp_path / "mpl").mkdir()
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    ask = ("import os\nresult = [os.readlink(f'/proc/self/fd/{fd}') if os.path.exists(f'/proc/self/fd/{fd}') "
           "else None for fd in (3, 4)]")
    executor = sandbox.SandboxedKernel(Limits(cell_timeout=30))
    for numpy_only in (False, True):
        with executor.open(_notebook("x = 1"), tmp_path, numpy_only=numpy_only) as session:
            assert session.run_notebook() == []
            held = session.probe(ask, {})["result"]
        assert not [target for target in held if target and target.startswith("/")], held


async def _left_after_ready():
    """What a freshly started kernel still sends on shell and iopub once the client says it is ready."""
    km = GradingKernelManager(kernel_name="python3")
    await km.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        left = []
        for channel in (client.shell_channel, client.iopub_channel):
            try:
                left.append(await channel.get_msg(timeout=1))
            except Empty:
                pass
        return left
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)


def test_a_kernel_is_ready_once_its_start_up_messages_are_all_in():
    """Nothing of the start is left for the first cell to meet (nor for its output budget to pay for)."""
    assert asyncio.run(_left_after_ready()) == []


def _cell(source, **nbgrader):
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata.nbgrader = {"grade": False, "solution": False, "locked": False, **nbgrader}
    return cell


@pytest.mark.parametrize("added_after, demo_in_numpy_only_kernel", [(False, False), (True, True)],
                         ids=["demo-closes-the-notebook", "student-cell-after-the-demo"])
def test_the_numpy_only_kernel_runs_the_notebook_up_to_the_last_cell_a_student_writes(
        tmp_path, added_after, demo_in_numpy_only_kernel):
    sandbox.check_available()
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell("import numpy as np", grade_id="imports", locked=True),
                _cell("def f(x):\n    return np.asarray(x) * 2", grade_id="f", solution=True),
                _cell("assert f(1) == 2", grade_id="test_f", grade=True, locked=True, points=1),
                _cell("demo = f(21)", grade_id="demo", locked=True)] + [_cell("added = 1")] * added_after
    ask = "result = [f(x), 'demo' in globals()]"
    with Kernels(sandbox.SandboxedKernel(Limits(cell_timeout=30)), nb, tmp_path, {"f"}, notebook.is_test_cell) as kernels:
        assert kernels.session({"f"}).probe(ask, {"x": 3})["result"] == [6, demo_in_numpy_only_kernel]
        assert kernels.session(set()).probe(ask, {"x": 3})["result"] == [6, True]  # the notebook's own run: all of it
        assert kernels.notebook_trips() == []
        assert len(kernels.executed().cells) == len(nb.cells)


def test_a_kernels_cpu_time_counts_the_threads_of_the_children_it_has_reaped():
    burn = "import threading; t = threading.Thread(target=sum, args=(range(30_000_000),)); t.start(); t.join()"
    shell = subprocess.Popen(["sh", "-c", f"{sys.executable} -c '{burn}'; exec sleep 60"])
    try:
        clock = KernelClock(shell.pid)
        while psutil.Process(shell.pid).name() != "sleep":  # the child has run and been reaped
            time.sleep(0.05)
        assert clock.cpu() > 0.2  # what the child's thread computed; sleeping costs nothing
    finally:
        shell.kill()
        shell.wait()


LAUNCHER = """
import os, subprocess, sys
from autograder import sandbox
grader = int(sys.argv[1]) or os.getpid()
child = subprocess.Popen(["sleep", "300"], preexec_fn=sandbox.dies_with(grader))
print(child.pid, flush=True)
sys.exit(child.wait())
"""


def test_a_kernels_clock_reads_its_cgroup_which_keeps_the_time_of_processes_that_have_ended():
    try:
        group = cgroups.Cgroup.create(256 << 20, 16)
    except cgroups.CgroupUnavailable as why:
        pytest.skip(str(why))
    try:
        if group.cpu_seconds() is None:
            pytest.skip("this machine's cgroups do not keep CPU time")
        join = "".join(f"echo $$ > {procs}; " for procs in group.procs_files)  # as the kernel's launcher does
        subprocess.run(["sh", "-c", f"{join}exec {sys.executable} -c 'sum(range(30_000_000))'"], check=True)
        assert KernelClock(None, group).cpu() > 0.2  # the process is gone; what it computed still counts
    finally:
        group.remove()


def test_a_cgroup_v1_without_cpu_accounting_still_caps_and_the_clock_reads_the_process_tree(monkeypatch):
    if (cgroups.MOUNT / "cgroup.controllers").is_file():
        pytest.skip("cgroup v2 keeps the CPU time in the kernel's own cgroup")
    v1_folder = cgroups._v1_folder
    monkeypatch.setattr(cgroups, "_v1_folder", lambda controller, name: None if controller == "cpuacct"
                        else v1_folder(controller, name))  # a machine whose cpuacct hierarchy is not ours
    try:
        group = cgroups.Cgroup.create(256 << 20, 16)
    except cgroups.CgroupUnavailable as why:
        pytest.skip(str(why))
    try:
        assert group.cpu_seconds() is None and len(group.procs_files) == 2  # memory and pids
        assert KernelClock(os.getpid(), group).cpu() > 0  # this process's own tree
    finally:
        group.remove()


def _gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_kernel_launcher_dies_with_the_grader_even_one_killed_before_bwrap_could_arrange_it():
    grader = subprocess.Popen([sys.executable, "-c", LAUNCHER, "0"], stdout=subprocess.PIPE, text=True)
    launched = int(grader.stdout.readline())
    grader.kill()
    grader.wait()
    deadline = time.monotonic() + 30  # the signal is delivered at once; a busy machine may take a moment
    while not _gone(launched) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(launched)
    # a grader that is gone before the launcher runs: the launcher leaves at once instead of starting bwrap
    stranger = subprocess.run([sys.executable, "-c", LAUNCHER, "1"], capture_output=True, text=True, timeout=60)
    assert stranger.returncode == 125, stranger.stderr
