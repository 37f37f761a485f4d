"""The seccomp filter: the same decisions as libseccomp compiling the same policy, and, live in the
sandbox, a system call through a foreign ABI (i386 `int 0x80`, x32) kills the process."""
import platform
import struct
import subprocess
import sys
import tempfile

import pytest

from autograder import sandbox, seccomp
from autograder.limits import Limits

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="the filter is x86_64 only")

AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64 = 0x40000003, 0xC00000B7
KILL, ALLOW = seccomp.KILL_PROCESS, seccomp.ALLOW
EPERM, ENOSYS = seccomp.ERRNO | seccomp.EPERM, seccomp.ERRNO | seccomp.ENOSYS
NEWUSER, NEWNS = seccomp.CLONE_NEWUSER, 0x00020000
SIGSYS_THROUGH_BWRAP = 128 + 31  # bwrap exits 128 + the signal that ended its child


def run_bpf(program, arch, nr, args=()):
    """The action classic BPF `program` (bytes) returns for this system call; only the opcodes
    the two filters use are interpreted (LD W ABS, ALU AND K, JEQ/JGE/JSET K, RET K)."""
    data = struct.pack("=IIQ6Q", nr & 0xFFFFFFFF, arch, 0, *(list(args) + [0] * (6 - len(args))))
    instructions = [struct.unpack_from("=HBBI", program, offset) for offset in range(0, len(program), 8)]
    accumulator, pc = 0, 0
    while True:
        code, jt, jf, k = instructions[pc]
        pc += 1
        if code == 0x20:
            accumulator = struct.unpack_from("=I", data, k)[0]
        elif code == 0x54:
            accumulator &= k
        elif code in (0x15, 0x35, 0x45):
            taken = {0x15: accumulator == k, 0x35: accumulator >= k, 0x45: accumulator & k != 0}[code]
            pc += jt if taken else jf
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"opcode {code:#x} is not interpreted here")


def libseccomp_program():
    """The same policy compiled by libseccomp, every system call named (so it checks our numbers too)."""
    import pyseccomp  # the dev extra; needs libseccomp.so.2 (Debian's libseccomp2, which apt depends on)

    policy = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    policy.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.KILL_PROCESS)  # native (x86_64) only: i386, x32 are bad
    for name in seccomp.DENIED:
        policy.add_rule(pyseccomp.ERRNO(seccomp.EPERM), name)
    for name in ("unshare", "clone"):
        policy.add_rule(pyseccomp.ERRNO(seccomp.EPERM), name, pyseccomp.Arg(0, pyseccomp.MASKED_EQ, NEWUSER, NEWUSER))
    policy.add_rule(pyseccomp.ERRNO(seccomp.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as file:
        policy.export_bpf(file)
        file.seek(0)
        return file.read()


X86_64, I386 = seccomp.AUDIT_ARCH_X86_64, AUDIT_ARCH_I386
X32 = seccomp.X32_SYSCALL_BIT
DECISIONS = [  # (arch, nr, args, action)
    (X86_64, 0, (), ALLOW),  # read
    (X86_64, 39, (), ALLOW),  # getpid
    (X86_64, 257, (), ALLOW),  # openat
    (X86_64, 165, (), EPERM),  # mount
    (X86_64, 321, (), EPERM),  # bpf
    (X86_64, 308, (), EPERM),  # setns
    (X86_64, 272, (0,), ALLOW),  # unshare()
    (X86_64, 272, (NEWNS,), ALLOW),  # unshare(CLONE_NEWNS)
    (X86_64, 272, (NEWUSER,), EPERM),  # unshare(CLONE_NEWUSER)
    (X86_64, 272, (NEWUSER | NEWNS | 1 << 40,), EPERM),
    (X86_64, 56, (0x11,), ALLOW),  # clone(SIGCHLD), as fork does
    (X86_64, 56, (NEWUSER | 0x11,), EPERM),
    (X86_64, 435, (), ENOSYS),  # clone3: its flags are in memory, out of the filter's reach
    (I386, 20, (), KILL),  # getpid
    (I386, 310, (NEWUSER,), KILL),  # unshare
    (I386, 21, (), KILL),  # mount
    (I386, 357, (), KILL),  # bpf
    (AUDIT_ARCH_AARCH64, 97, (NEWUSER,), KILL),  # unshare
    (X86_64, X32 | 39, (), KILL),  # getpid
    (X86_64, X32 | 272, (NEWUSER,), KILL),  # unshare
    (X86_64, X32 | 165, (), KILL),  # mount
    (X86_64, 0x7FFFFFFF, (), KILL),  # in the x32 range, as every number from bit 30 up
]


def test_decisions_match_libseccomp_and_the_table():
    ours, theirs = seccomp.filter_bytes(), libseccomp_program()
    for arch, nr, args, action in DECISIONS:
        decisions = run_bpf(ours, arch, nr, args), run_bpf(theirs, arch, nr, args)
        assert decisions == (action, action), (hex(arch), hex(nr))
    flags = (0, NEWNS, NEWUSER, NEWUSER | NEWNS, 0xFFFFFFFF & ~NEWUSER, 1 << 32 | NEWUSER)
    for arch in (X86_64, I386):
        for nr in list(range(470)) + [X32 | n for n in range(0, 470, 7)]:
            for arg in flags:
                assert run_bpf(ours, arch, nr, [arg]) == run_bpf(theirs, arch, nr, [arg]), (hex(nr), hex(arg))


def test_the_one_known_difference_is_nr_minus_one():
    """libseccomp lets nr -1 (what a tracer sets to skip a call) on to the x86_64 rules, where it is
    allowed and fails with ENOSYS; ours kills it with the x32 range. Both refuse it something."""
    assert run_bpf(libseccomp_program(), X86_64, -1) == ALLOW
    assert run_bpf(seccomp.filter_bytes(), X86_64, -1) == KILL


# Calls the machine code in argv[1] (a function returning long) and prints its result and our pid.
PROBE = """
import ctypes, mmap, os, sys
page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(bytes.fromhex(sys.argv[1]))
function = ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
print(function(), os.getpid())
"""
MOV_EAX, RET = "b8", "c3"
SYSCALL, INT_80 = "0f05", "cd80"
PUSH_RBX, MOV_EBX, POP_RBX = "53", "bb", "5b"  # rbx is the caller's: i386 takes the first argument there


def imm32(value):
    return struct.pack("<I", value).hex()


X86_64_GETPID = MOV_EAX + imm32(39) + SYSCALL + RET
I386_GETPID = MOV_EAX + imm32(20) + INT_80 + RET
I386_UNSHARE_NEWUSER = PUSH_RBX + MOV_EAX + imm32(310) + MOV_EBX + imm32(NEWUSER) + INT_80 + POP_RBX + RET
X32_GETPID = MOV_EAX + imm32(X32 | 39) + SYSCALL + RET


@pytest.fixture(scope="module")
def jail():
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        pytest.skip(f"no sandbox here: {error}")
    uid = sandbox._sandbox_uid()
    with tempfile.TemporaryDirectory() as workdir, sandbox._kernel_folders(uid) as (sockets, grader_dir):
        yield sandbox.Jail(Limits(), workdir, sockets, uid, grader_dir)


def run_probe(code, jail=None):
    command = [sys.executable, "-c", PROBE, code]
    if jail:
        return subprocess.run(jail.command(command), capture_output=True, text=True, env=jail.launch_env(), timeout=60)
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_x86_64_calls_run_in_the_sandbox(jail):
    done = run_probe(X86_64_GETPID, jail)
    assert done.returncode == 0, done.stderr
    result, pid = done.stdout.split()
    assert result == pid


@pytest.mark.parametrize("code", [I386_GETPID, I386_UNSHARE_NEWUSER, X32_GETPID],
                         ids=["i386-getpid", "i386-unshare-newuser", "x32-getpid"])
def test_a_foreign_abi_call_kills_the_sandboxed_process(jail, code):
    if code != X32_GETPID:  # x32 reaches seccomp on every x86_64 kernel; int 0x80 needs IA32 emulation
        outside = run_probe(I386_GETPID)
        if outside.returncode != 0:
            pytest.skip(f"this kernel has no i386 emulation (int 0x80 ended with {outside.returncode})")
        result, pid = outside.stdout.split()
        assert result == pid  # the machine code does what it says
    done = run_probe(code, jail)
    assert (done.returncode, done.stdout) == (SIGSYS_THROUGH_BWRAP, "")
