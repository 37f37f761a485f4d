"""Confine the student's kernel with bubblewrap (docs/design.md, the trust model; docs/security.md).

Inside, the kernel sees a read-only system (/usr and the Python it runs on),
a size-capped tmpfs home holding only its notebook and the released data, its
own /tmp, no network (it talks to the grader over Unix sockets in a folder
of its own), a fresh PID namespace, and it runs as an unprivileged uid with
no capabilities under resource limits, in its own cgroup where one can be made.
"""
import ctypes
import functools
import itertools
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from traitlets import Any

from . import gpus, packages, seccomp, unavailable
from .cgroups import Cgroup, CgroupUnavailable
from .execution import LocalKernel
from .limits import Limits, exit_cause
from .metering import GradingKernelManager
from .outcome import Status

HOME = "/home/student"
CAPPED = "capped: memory and processes, every process of the kernel counted"
PRIVATE_TMPFS = {"/dev/shm": "1777", "/tmp": "1777", HOME: "0777"}  # writable, size-capped, per kernel
UID_BASE = 200_000  # sandbox uids are never real accounts
UIDS_PER_PROCESS = 64  # each grading process cycles through its own block: every kernel a uid of its own
SYSTEM_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "passwd", "group",
              "alternatives", "fonts", "mime.types")
# Hidden from every sandboxed kernel: ipykernel's debugger, which no grading kernel serves, and whose import at
# start-up cost each kernel 50 ms of CPU (with it gone, ipykernel starts without a debugger).
ALWAYS_HIDDEN = ("debugpy",)
UNAVAILABLE = "autograder_unavailable"  # the stand-in module's name in the NumPy-only kernel
# Runs as the grader, before bwrap: join the kernel's cgroups so every process inside is counted, and open
# what bwrap copies in, where there is one: the seccomp filter on fd 3 (`--seccomp 3`) and matplotlib's font
# list on fd 4 (`--file 4`, `_font_list`). bwrap closes what it reads; one opened for nothing would reach the kernel.
LAUNCH = ('for procs in $AUTOGRADER_CGROUP_PROCS; do echo $$ > "$procs" || exit 125; done; '
          'if [ -n "$AUTOGRADER_SECCOMP" ]; then exec 3< "$AUTOGRADER_SECCOMP"; fi; '
          'if [ -n "$AUTOGRADER_FONT_LIST" ]; then exec 4< "$AUTOGRADER_FONT_LIST"; fi; exec "$@"')
MB = 1 << 20

HELP = """\
bubblewrap cannot confine student code on this machine: {reason}
Options:
  - install it: `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap` (Fedora);
  - where unprivileged user namespaces are off, run the grader as root or enable them
    (`sysctl kernel.unprivileged_userns_clone=1`, or `user.max_user_namespaces` above 0);
  - on macOS or Windows, grade in a Linux container or VM;
  - only for code you trust: `autograder grade ... --unsafe-no-sandbox` (every result then says so)."""


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces here."""


_kernels_started = itertools.count()


def _sandbox_uid():
    """A uid no other live kernel has: the grading process's own block (by pid, which no other live
    process has), the next in it for each kernel. Without root, the grader's own uid in a user namespace."""
    if os.geteuid() != 0:
        return os.getuid()
    return UID_BASE + os.getpid() * UIDS_PER_PROCESS + next(_kernels_started) % UIDS_PER_PROCESS


def _with_parents(path, mount):
    """Mount arguments for `path`, creating its parents inside as 0755 so any uid can pass
    (but leaving the private tmpfs folders, which are mounted first, as they are)."""
    args = []
    for parent in reversed(Path(path).parents[:-1]):
        if str(parent) not in PRIVATE_TMPFS:
            args += ["--perms", "0755", "--dir", str(parent)]
    return args + [mount, str(path), str(path)]


def _system_mounts():
    """The read-only system: /usr, the top-level links into it, a few files of /etc, and the Python in use."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--perms", "0755", "--dir", "/etc"]  # made for the binds below, it would be the kernel's to pass
    for name in SYSTEM_ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    roots = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    for root in sorted(roots):
        if not root.is_relative_to("/usr"):
            args += _with_parents(root, "--ro-bind")
    return args


def _gpu_mounts(gpu):
    """GPU `gpu`'s device nodes (gpus.device_nodes), each under its own name in the kernel's /dev
    (the driver finds a GPU's node by its minor number); none for None. Never the host's /dev nor
    another GPU's node, which the kernel cannot create either: it has no CAP_MKNOD, and no_new_privs
    keeps the setuid nvidia-modprobe from making nodes for it."""
    if gpu is None:
        return []
    return [arg for node in gpus.device_nodes(gpu) for arg in ("--dev-bind", node, f"/dev/{Path(node).name}")]


def _font_list():
    """The font list the grader's own matplotlib made last (`fontlist-v*.json` in its cache folder), or None.

    A kernel gets a copy of its own in its home's cache: its first plot then need not scan the system's
    fonts again, which took 0.09 s of CPU (as a plain Jupyter kernel, with its user's cache, does not).
    Where there is none yet, the kernel makes its own."""
    folder = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib")
    lists = sorted(Path(folder).glob("fontlist-v*.json"), key=lambda path: path.stat().st_mtime)
    return lists[-1] if lists else None


def _blocked_packages(names, folder):
    """(stand-in, installed path) pairs that hide each installed package in `names` from the kernel.

    The stand-in is a package whose import raises, so a dynamic import the
    static policy cannot see (`importlib.import_module("tensor" + "flow")`)
    fails too; none of the real package's files stay visible, in any package folder.
    """
    pairs = []
    for name in names:
        locations = packages.installed_locations(name)
        if not locations:
            continue
        stand_in = Path(folder, name)
        stand_in.mkdir(mode=0o755)
        (stand_in / "__init__.py").write_text(f"raise ImportError({name + ' is not allowed in this assignment'!r})\n")
        pairs += [(str(stand_in if path.is_dir() else stand_in / "__init__.py"), str(path)) for path in locations]
    return pairs


def _hidden_folders():
    """Package folders off the kernel's path, which student code could add to it: empty in every kernel."""
    args = []
    for folder in packages.other_site_folders():
        args += ["--size", str(MB), "--tmpfs", str(folder), "--remount-ro", str(folder)]
    return args


def _unavailable_files(folder, forbidden):
    """(module, .pth file), written in `folder`, that make every installed package but NumPy and the kernel's own
    import as unavailable in the NumPy-only kernel: the .pth file installs the module's finder as the interpreter
    starts. The `forbidden` ones are left out: they get their own stand-in, which raises on import. (A stand-in
    bound over each package instead took bwrap 90 ms of mounts a kernel.)"""
    module = Path(shutil.copy(unavailable.__file__, Path(folder, f"{UNAVAILABLE}.py")))
    names = [name for name in packages.numpy_only_plan()[1] if name not in forbidden]
    pth = Path(folder, f"{UNAVAILABLE}.pth")
    pth.write_text(f"import {UNAVAILABLE}; {UNAVAILABLE}.install({names!r})\n")
    for path in (module, pth):
        os.chmod(path, 0o644)
    return module, pth


def _numpy_only_folders(unavailable_files):
    """The kernel's package folders with only NumPy and the kernel's own packages, and the stand-in's files
    (`_unavailable_files`); the forbidden packages' own stand-ins come after this (then `--remount-ro`)."""
    kept, _ = packages.numpy_only_plan()
    folders = packages.kernel_site_folders()
    args = []
    for folder in folders:
        args += ["--size", str(MB), "--perms", "0755", "--tmpfs", str(folder)]
    for entry in kept:
        args += ["--ro-bind", str(entry), str(entry)]
    for path in unavailable_files:  # the interpreter reads .pth files in its first package folder
        args += ["--ro-bind", str(path), f"{folders[0]}/{path.name}"]
    return args


class Jail:
    """The bubblewrap command line for one kernel: what it sees and what it may use.

    `grader_dir` is a folder of the grader's that is never mounted writable inside: the
    stand-ins for forbidden packages and the seccomp filter go there. A `numpy_only` kernel
    can import NumPy, the standard library and the kernel's own packages, and nothing else.
    `gpu` is the index of the one GPU the kernel may use, or None for none (it computes on the CPU).
    """

    def __init__(self, limits, workdir, socket_dir, uid, grader_dir, forbidden=(), cgroup=None, settings=None,
                 numpy_only=False, gpu=None):
        self.limits, self.workdir, self.socket_dir, self.uid, self.gpu = limits, Path(workdir), socket_dir, uid, gpu
        self.settings = settings or {}
        self.forbidden = frozenset(forbidden)
        self.blocked = _blocked_packages(dict.fromkeys([*forbidden, *ALWAYS_HIDDEN]), grader_dir)
        self.unavailable = None  # the stand-in's files, in a numpy_only kernel
        if numpy_only:
            self.unavailable = _unavailable_files(grader_dir, self.forbidden)
        self.cgroup = cgroup
        self.font_list = None if numpy_only else _font_list()  # the NumPy-only kernel cannot plot
        self.seccomp, program = None, seccomp.filter_bytes()
        if program:
            self.seccomp = os.path.join(grader_dir, "seccomp.bpf")
            Path(self.seccomp).write_bytes(program)

    def launch_env(self):
        """The environment of the launch script (bwrap clears it for the kernel)."""
        return {"PATH": "/usr/bin:/bin", "AUTOGRADER_SECCOMP": self.seccomp or "",
                "AUTOGRADER_FONT_LIST": str(self.font_list) if self.font_list else "",
                "AUTOGRADER_CGROUP_PROCS": " ".join(self.cgroup.procs_files if self.cgroup else [])}

    def _filesystem(self):
        """Private tmpfs folders first, then what is bound into them or beside them (a checkout
        under /tmp must not be hidden by the private /tmp)."""
        disk = str(int(self.limits.disk_mb * MB))
        args = ["--proc", "/proc", "--dev", "/dev"]
        for folder, mode in PRIVATE_TMPFS.items():
            args += ["--size", disk, "--perms", mode, "--tmpfs", folder]
        args += _system_mounts() + _gpu_mounts(self.gpu) + _hidden_folders()
        if self.unavailable:
            args += _numpy_only_folders(self.unavailable)
        for item in sorted(self.workdir.iterdir()):  # the released data, read-only
            args += ["--ro-bind", str(item), f"{HOME}/{item.name}"]
        if self.font_list:  # a copy the kernel's matplotlib may rewrite, as it does one that is out of date
            cache = f"{HOME}/.cache/matplotlib"
            args += ["--perms", "0777", "--dir", f"{HOME}/.cache", "--perms", "0777", "--dir", cache,
                     "--perms", "0666", "--file", "4", f"{cache}/{self.font_list.name}"]
        for stand_in, path in self.blocked:
            args += ["--ro-bind", stand_in, path]
        if self.unavailable:
            args += [arg for folder in packages.kernel_site_folders() for arg in ("--remount-ro", str(folder))]
        return args + ["--bind", self.socket_dir, self.socket_dir]

    def _environment(self):
        env = {"HOME": HOME, "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8", "TMPDIR": "/tmp",
               "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", **self.settings}
        # No CUDA_VISIBLE_DEVICES, the grader's nor one of ours: CUDA numbers from 0 the GPUs whose nodes
        # it can open, so the one GPU a kernel sees is device 0 whatever its index on the host; the
        # grader's value names host indices ("3" would hide that device 0), and "0" would say nothing new.
        if "KERAS_BACKEND" in os.environ:
            env["KERAS_BACKEND"] = os.environ["KERAS_BACKEND"]
        return [arg for name, value in sorted(env.items()) for arg in ("--setenv", name, value)]

    def _limits(self):
        limits, cpu = self.limits, int(self.limits.cpu_seconds)
        args = ["prlimit", f"--data={int(limits.memory_mb * MB)}", f"--fsize={int(limits.file_size_mb * MB)}",
                f"--cpu={cpu}:{cpu + 5}", "--core=0"]
        if os.geteuid() == 0:  # RLIMIT_NPROC counts every process of the uid: only a private uid can have it
            args.append(f"--nproc={limits.processes}")
        return args + ["--"]

    def _drop_privileges(self):
        if os.geteuid() != 0:
            return []  # bwrap's user namespace already leaves us unprivileged
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]

    def command(self, argv):
        """`argv` (the kernel's command) wrapped: bwrap, then resource limits, then the uid drop."""
        args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
                "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
        if os.geteuid() != 0:
            args += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
        if self.seccomp:
            args += ["--seccomp", "3"]
        args += self._filesystem() + ["--chdir", HOME, "--clearenv"] + self._environment()
        return ["/bin/sh", "-c", LAUNCH, "autograder-launch"] + args + self._limits() + \
            self._drop_privileges() + list(argv)


class SandboxedKernelManager(GradingKernelManager):
    """A kernel manager whose kernel starts inside a Jail and talks over Unix sockets."""

    jail = Any()

    def format_kernel_cmd(self, extra_arguments=None):
        return self.jail.command(super().format_kernel_cmd(extra_arguments))

    def write_connection_file(self, **kwargs):
        """The kernel reads it as the sandbox uid (jupyter_client makes it readable by us only)."""
        super().write_connection_file(**kwargs)
        os.chown(self.connection_file, self.jail.uid, self.jail.uid)

    @property
    def kernel_spec(self):
        """Interrupt by message: a signal to our child cannot reach the kernel's own session."""
        spec = super().kernel_spec
        spec.interrupt_mode = "message"
        return spec


PR_SET_PDEATHSIG = 1


def dies_with(grader_pid):
    """The launcher's preexec_fn: SIGKILL when the grading process goes, and exit at once if it went already.

    bwrap's --die-with-parent is set only once bwrap runs; a grader killed before that (while starting a
    kernel) would leave the sandbox running with nobody to stop it. The signal comes when the thread that
    started the kernel ends: the grading task's own, which outlives its kernels.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arm():
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != grader_pid:
            os._exit(125)
    return arm


@contextmanager
def _kernel_folders(uid):
    """(sockets, grader_dir): the kernel's folder for its sockets and connection file, owned by
    the sandbox uid and in /tmp (a tmpfs inside too, so the path is the same on both sides),
    and a folder of the grader's for what the kernel may read but never change."""
    sockets = tempfile.mkdtemp(prefix="autograder-ipc-", dir="/tmp")
    grader_dir = tempfile.mkdtemp(prefix="autograder-jail-")
    try:
        os.chown(sockets, uid, uid)
        os.chmod(grader_dir, 0o755)
        yield sockets, grader_dir
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
        shutil.rmtree(grader_dir, ignore_errors=True)


def _seal(sockets):
    """Once the kernel has started, and before any student code runs in it, take its socket folder back:
    as root the grader connects to paths in it, which the kernel must no longer replace (with a link to
    a socket of the host's), and nothing more may be written there (the folder is on the host's disk).
    Without root the kernel's uid is the grader's own, and the folder stays the kernel's."""
    if os.geteuid() != 0:
        return
    os.chown(sockets, 0, 0)
    os.chmod(sockets, 0o755)
    for entry in os.scandir(sockets):
        if entry.is_symlink() or not (stat.S_ISSOCK(entry.stat().st_mode) or entry.name == "kernel.json"):
            raise RuntimeError(f"unexpected {entry.name} in the kernel's socket folder")


def _cgroup_memory(limits):
    """The cgroup cap: the heap limit plus both tmpfs and some slack for the interpreter."""
    return int((limits.memory_mb + 2 * limits.disk_mb + 256) * MB)


class SandboxedKernel(LocalKernel):
    """Starts the kernel inside bubblewrap, with every limit of `Limits` enforced,
    the packages in `forbidden` hidden and only GPU `gpu` (an index; None: no GPU) visible
    (never in the NumPy-only kernel)."""

    confines = True

    def __init__(self, limits=None, forbidden=(), gpu=None):
        super().__init__(limits)
        self.forbidden, self.gpu = tuple(forbidden), gpu
        self.cgroup = CAPPED

    @contextmanager
    def open(self, nb, workdir, numpy_only=False):
        uid = _sandbox_uid()
        cgroup = self._cgroup()
        gpu = None if numpy_only else self.gpu  # NumPy only: no GPU library loads there, but ctypes could reach libcuda
        try:
            with _kernel_folders(uid) as (sockets, grader_dir):
                jail = Jail(self.limits, workdir, sockets, uid, grader_dir, self.forbidden, cgroup, self.settings(),
                            numpy_only, gpu)
                km = SandboxedKernelManager(kernel_name=self.kernel_name, transport="ipc",
                                            ip=f"{sockets}/kernel", connection_file=f"{sockets}/kernel.json",
                                            jail=jail)
                client = self._client(nb, workdir, km=km)
                with client.setup_kernel(env=jail.launch_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         preexec_fn=dies_with(os.getpid()),
                                         cleanup_kc=True):  # nbclient keeps kernels it did not create
                    _seal(sockets)
                    yield self._session(client, lambda: self._death_cause(client, cgroup), cgroup)
        finally:
            if cgroup:
                cgroup.remove()

    def _cgroup(self):
        """A cgroup for the next kernel, or None; either way `cgroup` says which, for the result."""
        try:
            group = Cgroup.create(_cgroup_memory(self.limits), self.limits.processes + 8)
        except CgroupUnavailable as error:
            if self.cgroup.startswith("capped"):
                logging.warning("no cgroup for the kernel: %s; only rlimits cap its memory and processes", error)
            self.cgroup = f"none: {error}; only rlimits cap memory and processes"
            return None
        self.cgroup = CAPPED
        return group

    def _death_cause(self, client, cgroup):
        if cgroup and cgroup.oom_killed():
            return Status.MEMORY, f"the kernel passed its {self.limits.memory_mb:g} MB memory limit and was killed"
        return exit_cause(self._returncode(client))


@functools.cache
def check_available():
    """Raise SandboxUnavailable (with the options) unless a trivial command runs in a Jail here."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable(HELP.format(reason="the `bwrap` command is not installed."))
    uid = _sandbox_uid()
    with tempfile.TemporaryDirectory() as workdir, _kernel_folders(uid) as (sockets, grader_dir):
        jail = Jail(Limits(), workdir, sockets, uid, grader_dir)
        done = subprocess.run(jail.command(["/bin/true"]), capture_output=True, text=True, env=jail.launch_env())
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise SandboxUnavailable(HELP.format(reason=reason))
