"""Reference measurements made once: the figures thresholds come from, cached on disk.

A check may compare a submission with what the reference achieves (rnn_textgen trains the
reference model for its bits per character). That figure depends only on the course's hidden
files, the libraries and the kind of device, so it is measured once per such version and
kept under $AUTOGRADER_CACHE (default ~/.cache/autograder): not once per grading worker and
run. A lock makes concurrent workers wait for the first one's measurement instead of repeating it.
"""
import fcntl
import functools
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from . import gpus, report

LIBRARIES = ("keras", "numpy", "tensorflow-cpu", "tensorflow", "jax", "torch")


def cache_dir():
    return Path(os.environ.get("AUTOGRADER_CACHE") or Path.home() / ".cache" / "autograder") / "measured"


@functools.cache
def _folder_digest(folder):
    """A digest of every file under `folder` (the course's reference/: its code and its data)."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _installed(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def device_kind():
    """What a measurement ran on: the Keras backend and CPU or GPU (a GPU's figures may differ)."""
    return f"{os.environ.get('KERAS_BACKEND', 'tensorflow')}-{'cpu' if gpus.pinned() is None else 'gpu'}"


def key(function, args):
    """What the measurement depends on, hashed: the function, its arguments, the reference folder
    beside its module, the libraries' versions and the device kind."""
    folder = Path(function.__code__.co_filename).resolve().parent
    parts = [function.__module__, function.__qualname__, repr(args), _folder_digest(folder), device_kind(),
             *(f"{name}={_installed(name)}" for name in LIBRARIES)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def measured_once(function):
    """Decorate a reference measurement (plain, JSON-able arguments and value) to cache it on disk."""
    @functools.wraps(function)
    def cached(*args):
        path = cache_dir() / f"{key(function, args)}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a second worker waits for the first one's figure
            try:
                return json.loads(path.read_text())["value"]
            except (OSError, ValueError, KeyError):
                value = function(*args)
                report.atomic_write(path, json.dumps({"function": function.__qualname__, "value": value}))
                return value
    return functools.cache(cached)
