"""Which NVIDIA GPUs this machine has, and which device nodes a kernel needs to use one of them.

A kernel's sandbox gets one GPU by seeing only that GPU's node under /dev: an environment
variable such as CUDA_VISIBLE_DEVICES would not isolate anything, student code can change it.
`dev` is the device folder, a parameter so that tests can pass a folder of their own.
"""
import os
import re
from pathlib import Path

GPU_NODE = re.compile(r"nvidia(\d+)")
# What every GPU's user needs beside its own node (the driver's control node, unified memory);
# never nvidia-modeset (display) nor the other GPUs' nodes.
SHARED_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools")


def visible(dev="/dev"):
    """The GPUs' indices (the minor numbers of their `nvidia<N>` nodes), in numeric order; [] without a GPU."""
    matches = (GPU_NODE.fullmatch(path.name) for path in Path(dev).glob("nvidia*"))
    return sorted(int(match[1]) for match in matches if match)


def device_nodes(index, dev="/dev"):
    """The nodes a process needs to use GPU `index` and no other: its own, then the shared ones that exist."""
    own = Path(dev, f"nvidia{index}")
    if not own.exists():  # a kernel without its node would silently compute on the CPU
        raise ValueError(f"no GPU {index} here: {own} does not exist")
    return [str(own), *(str(Path(dev, name)) for name in SHARED_NODES if Path(dev, name).exists())]


def pinned(environ=os.environ, dev="/dev"):
    """The GPU this grading process works on: the one index in its CUDA_VISIBLE_DEVICES when that GPU's
    node exists (the local pool sets it per worker; whoever starts a Dask worker on a GPU sets it),
    else None: the CPU."""
    value = environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    return int(value) if value.isdigit() and int(value) in visible(dev) else None
