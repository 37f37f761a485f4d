"""GPU runners: which GPUs there are, and a kernel's sandbox that sees only its own (fake device folders)."""
import functools
import subprocess

import nbformat
import pytest

from autograder import gpus, sandbox
from autograder.limits import Limits

FAKE_NODES = ("nvidia0", "nvidia1", "nvidia2", "nvidia10", "nvidiactl", "nvidia-uvm", "nvidia-modeset")
GPU_1 = ["nvidia1", "nvidiactl", "nvidia-uvm"]  # its own node and the shared ones that exist


@pytest.fixture
def dev(tmp_path, monkeypatch):
    """A device folder of regular files named like a 4-GPU machine's nodes, which the sandbox uses instead of /dev."""
    folder = tmp_path / "dev"
    folder.mkdir()
    for name in FAKE_NODES:
        (folder / name).write_text(name)
    monkeypatch.setattr(gpus, "device_nodes", functools.partial(gpus.device_nodes, dev=folder))
    return folder


@pytest.fixture
def workdir(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def make_jail(workdir):
    """Jail(gpu) in folders of its own; the sandbox uid is the one a grading kernel would get."""
    uid = sandbox._sandbox_uid()
    with sandbox._kernel_folders(uid) as (sockets, grader_dir):
        yield lambda gpu: sandbox.Jail(Limits(), workdir, sockets, uid, grader_dir, gpu=gpu)


@pytest.fixture
def needs_sandbox():
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        pytest.skip(f"no sandbox here: {error}")


def dev_binds(command):
    return [(command[i + 1], command[i + 2]) for i, arg in enumerate(command) if arg == "--dev-bind"]


def test_visible_lists_the_gpu_nodes_in_numeric_order(dev):
    assert gpus.visible(dev) == [0, 1, 2, 10]


def test_a_machine_without_gpu_nodes_has_no_gpus(tmp_path):
    (tmp_path / "nvidiactl").touch()  # a driver installed, no GPU
    assert gpus.visible(tmp_path) == []


def test_one_gpus_nodes_are_its_own_and_the_shared_ones(dev):
    assert gpus.device_nodes(1) == [str(dev / name) for name in GPU_1]


def test_the_shared_nodes_include_uvm_tools_where_it_exists(dev):
    (dev / "nvidia-uvm-tools").touch()
    assert [node.rsplit("/", 1)[1] for node in gpus.device_nodes(10)] == \
        ["nvidia10", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"]


def test_a_gpu_without_its_node_is_an_error(dev):
    with pytest.raises(ValueError, match="no GPU 3 here"):
        gpus.device_nodes(3)


def test_a_jail_binds_only_its_gpus_nodes(dev, make_jail):
    command = make_jail(1).command(["/bin/true"])
    assert dev_binds(command) == [(str(dev / name), f"/dev/{name}") for name in GPU_1]


def test_a_jail_without_a_gpu_binds_no_nvidia_node(dev, make_jail):
    command = make_jail(None).command(["/bin/true"])
    assert dev_binds(command) == [] and not [arg for arg in command if "nvidia" in arg]


def test_inside_the_jail_dev_holds_only_its_gpus_nodes(dev, make_jail, needs_sandbox):
    jail = make_jail(1)
    done = subprocess.run(jail.command(["/bin/sh", "-c", "ls /dev; cat /dev/nvidia1"]), capture_output=True,
                          text=True, env=jail.launch_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    *listing, content = done.stdout.split()
    assert sorted(name for name in listing if name.startswith("nvidia")) == sorted(GPU_1)
    assert content == "nvidia1"  # the node bound is GPU 1's


@pytest.mark.parametrize("numpy_only, expected", [(False, GPU_1), (True, [])], ids=["keras-kernel", "numpy-only"])
def test_a_kernel_sees_its_gpu_but_the_numpy_only_kernel_none(dev, workdir, needs_sandbox, numpy_only, expected):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os")]
    executor = sandbox.SandboxedKernel(Limits(cell_timeout=30), gpu=1)
    with executor.open(nb, workdir, numpy_only=numpy_only) as session:
        assert session.run_notebook() == []
        names = session.probe("result = sorted(n for n in os.listdir('/dev') if n.startswith('nvidia'))", {})["result"]
    assert names == sorted(expected)
