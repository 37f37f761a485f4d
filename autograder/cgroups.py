"""Hard memory and process caps for one kernel, from cgroups where this machine lets us write them.

Resource limits (RLIMIT_DATA, RLIMIT_NPROC) are the first line; a cgroup also
counts what they miss (tmpfs pages, every thread of every child) and tells an
out-of-memory kill apart from any other death. It also keeps the kernel's CPU time,
every process's that was ever in it, in one file (reading the process tree instead
means reading every process on the machine, before every cell). cgroup v1 (separate `memory`
and `pids` hierarchies) and v2 (one unified tree) are both handled; where
neither is writable, `Cgroup.create` says why, the rlimits stand alone, and every result
records it.
"""
import os
import signal
import time
import uuid
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup")


def _own_path(controller):
    """This process's cgroup path in `controller`'s hierarchy ("" for v2's unified one)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


def _v1_folder(controller, name):
    path = _own_path(controller)
    base = MOUNT / controller / path.lstrip("/") if path is not None else None
    return base / name if base and (base / "cgroup.procs").is_file() else None


class CgroupUnavailable(RuntimeError):
    """No cgroup can cap this kernel; the message says why."""


class Cgroup:
    """One kernel's cgroup folders; a process joins by writing its pid to every `procs_files` entry."""

    def __init__(self, folders, oom_file, cpu_file=None):
        self.folders = folders
        self.oom_file = oom_file
        self.cpu_file = cpu_file  # v2's cpu.stat, v1's cpuacct.usage; None where the CPU time is not kept

    @property
    def procs_files(self):
        return [str(folder / "cgroup.procs") for folder in self.folders]

    @classmethod
    def create(cls, memory_bytes, pids):
        """A new cgroup capping memory and pids; raise CgroupUnavailable with the reason where none can be made."""
        name = f"autograder-{uuid.uuid4().hex[:12]}"
        try:
            if (MOUNT / "cgroup.controllers").is_file():
                return cls._create_v2(name, memory_bytes, pids)
            return cls._create_v1(name, memory_bytes, pids)
        except OSError as error:
            raise CgroupUnavailable(f"{error.strerror or error} ({error.filename})") from None

    @classmethod
    def _create_v1(cls, name, memory_bytes, pids):
        memory, tasks = _v1_folder("memory", name), _v1_folder("pids", name)
        if memory is None or tasks is None:
            raise CgroupUnavailable("no writable memory and pids hierarchies under /sys/fs/cgroup")
        group = cls._make([(memory, {"memory.limit_in_bytes": memory_bytes}), (tasks, {"pids.max": pids})],
                          memory / "memory.oom_control")
        cpu = _v1_folder("cpuacct", name)
        if cpu is None:
            return group
        try:  # only to read the CPU time: without it the clock reads the process tree, and the caps still hold
            cpu.mkdir()
        except OSError:
            return group
        group.folders.append(cpu)
        group.cpu_file = cpu / "cpuacct.usage"
        return group

    @classmethod
    def _create_v2(cls, name, memory_bytes, pids):
        parent = MOUNT / (_own_path("") or "/").lstrip("/")
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        missing = [c for c in ("memory", "pids") if c not in enabled]
        if missing:  # enabling them here would fail: the grader itself lives in this cgroup
            raise CgroupUnavailable(f"the {' and '.join(missing)} controller is not enabled for {parent}'s children "
                                    "(cgroup v2: add it to cgroup.subtree_control)")
        return cls._make([(parent / name, {"memory.max": memory_bytes, "pids.max": pids})],
                         parent / name / "memory.events", parent / name / "cpu.stat")

    @classmethod
    def _make(cls, settings, oom_file, cpu_file=None):
        """Create each folder and write its settings; on any failure remove what was made."""
        group = cls([], oom_file, cpu_file)
        try:
            for folder, values in settings:
                folder.mkdir()
                group.folders.append(folder)
                for setting, value in values.items():
                    (folder / setting).write_text(str(value))
        except OSError:
            group.remove()
            raise
        return group

    def oom_killed(self):
        """True once the kernel (or a child) was killed for passing the memory cap."""
        try:
            fields = dict(line.split() for line in self.oom_file.read_text().splitlines())
        except (OSError, ValueError):
            return False
        return int(fields.get("oom_kill", 0)) > 0

    def cpu_seconds(self):
        """The CPU time of every process that has been in the cgroup, or None where it is not kept."""
        if self.cpu_file is None:
            return None
        try:
            text = self.cpu_file.read_text()
        except OSError:  # the cgroup is gone
            return None
        if self.cpu_file.name == "cpuacct.usage":
            return int(text) / 1e9
        return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6

    def remove(self):
        """Kill whatever is left inside and delete the folders."""
        for folder in self.folders:
            for _ in range(50):
                try:
                    pids = [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.02)
            try:
                folder.rmdir()
            except OSError:
                pass
