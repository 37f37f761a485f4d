"""Which installed Python packages a student's kernel can reach, and what the sandbox hides.

The sandbox mounts the system read-only, so every package installed anywhere on the machine
would be importable by student code that extends `sys.path`. The plan here, applied by
`sandbox.Jail` as mounts:

- folders of packages that are not on the kernel's own path are hidden whole, in every kernel;
- an assignment's forbidden packages are replaced wherever they are installed by a stand-in
  whose import raises (every kernel);
- in the kernel that runs the NumPy-only functions, each folder on the path keeps only NumPy
  and what the kernel itself needs to run (ipykernel and its requirements); every other package
  imports as a stand-in (`unavailable.py`) that cannot be used. The standard library is
  not a package folder, so it stays.
"""
import functools
import glob
import importlib.metadata
import re
import site
import sys
from pathlib import Path

from packaging.requirements import Requirement

KERNEL_RUNTIME = ("ipykernel", "numpy")  # what a NumPy-only kernel keeps, with their requirements
SITE_FOLDERS = ("/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages",
                f"{sys.base_prefix}/lib/python3*/*-packages")
NOT_MODULES = re.compile(r"\.(dist-info|egg-info|libs|data|pth)$|^__pycache__$")


def _normal(name):
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def kernel_site_folders():
    """The package folders on the kernel's path (it runs the grader's own interpreter)."""
    folders = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
    return tuple(dict.fromkeys(Path(f).resolve() for f in folders if Path(f).is_dir()))


@functools.cache
def other_site_folders():
    """Package folders that are visible in the sandbox but not on the kernel's path: hidden whole."""
    found = {Path(f).resolve() for pattern in SITE_FOLDERS for f in glob.glob(pattern) if Path(f).is_dir()}
    return tuple(sorted(found - set(kernel_site_folders())))


def _requirements(distribution):
    for text in distribution.requires or ():
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            yield requirement.name


@functools.cache
def runtime_entries():
    """Top-level entries (folders and files) of KERNEL_RUNTIME and every package they require."""
    entries, seen, pending = set(), set(), list(KERNEL_RUNTIME)
    while pending:
        name = _normal(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        root = Path(distribution.locate_file("")).resolve()
        entries.update(root / item.parts[0] for item in distribution.files or () if item.parts[0] != "..")
        pending.extend(_requirements(distribution))
    return frozenset(entries)


def module_name(entry):
    """The name `import` finds `entry` (a file or folder of a package folder) by, or None."""
    if NOT_MODULES.search(entry.name):
        return None
    name = entry.name.split(".")[0] if entry.is_file() and entry.suffix in (".py", ".so", ".pyd") else \
        entry.name if entry.is_dir() else None
    return name if name and name.isidentifier() else None


@functools.cache
def installed_locations(name):
    """Every place in the kernel's package folders where a top-level module `name` is installed
    (read once per grading process: every kernel it starts asks)."""
    return tuple(entry for folder in kernel_site_folders() for entry in folder.iterdir() if module_name(entry) == name)


@functools.cache
def numpy_only_plan():
    """(kept entries, names of the other modules) of the kernel's package folders, for the kernel that runs the
    NumPy-only functions: it sees only the kept entries, and every other name outside the standard library
    imports there as the `unavailable` stand-in."""
    kept, unavailable = [], set()
    runtime = runtime_entries()
    for folder in kernel_site_folders():
        for entry in sorted(folder.iterdir()):
            name = module_name(entry)
            if entry in runtime:
                kept.append(entry)
            elif name and name not in sys.stdlib_module_names:
                unavailable.add(name)
    return tuple(kept), tuple(sorted(unavailable))
