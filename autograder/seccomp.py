"""A seccomp filter for the kernel: no new namespaces, no kernel interfaces a notebook never needs.

As root the grader drops to a plain uid, and the host may still let any uid create user
namespaces; this filter closes that, and a few other large pieces of kernel attack surface
(keyrings, bpf, perf, userfaultfd, io_uring, mounts, modules). bwrap loads it
(`--seccomp FD`) just before it runs the kernel. It is classic BPF, written out here
because libseccomp's own Python binding is not on PyPI (tests/test_seccomp.py checks it
against libseccomp); x86_64 only, elsewhere there is none.

Only the x86_64 system call table is allowed at all. A 64-bit process can still enter the
kernel through another ABI (i386 `int 0x80`, or x32: x86_64 numbers with bit 30 set), which
reaches the same kernel entry points under other numbers (i386 `unshare` is 310, not 272),
so a filter that checks numbers cannot check those calls: any of them kills the process.
"""
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
CLONE_NEWUSER = 0x10000000
ALLOW, ERRNO, KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
EPERM, ENOSYS = 1, 38
LOAD, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06

# x86_64 syscall numbers
UNSHARE, CLONE, CLONE3 = 272, 56, 435
DENIED = {
    "setns": 308, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "mount": 165, "umount2": 166, "pivot_root": 155, "fsopen": 430, "fsmount": 432, "move_mount": 429,
    "open_tree": 428, "fspick": 433, "mount_setattr": 442, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320, "open_by_handle_at": 304,
    "acct": 163, "swapon": 167, "swapoff": 168, "reboot": 169,
}


def _program():
    """The filter as (code, jump if true, jump if false, k) tuples; jumps count from the next one."""
    checks = [(JEQ, number, "eperm", None) for number in sorted(DENIED.values())]
    checks += [(JEQ, UNSHARE, "flags", None), (JEQ, CLONE, "flags", None), (JEQ, CLONE3, "enosys", None)]
    head = [(LOAD, 4), (JEQ, AUDIT_ARCH_X86_64, None, "kill"), (LOAD, 0), (JGE, X32_SYSCALL_BIT, "kill", None)]
    head += checks
    tail = {"flags": [(LOAD, 16), (JSET, CLONE_NEWUSER, "eperm", "allow")],  # BPF jumps only forward
            "allow": [(RET, ALLOW)], "eperm": [(RET, ERRNO | EPERM)], "enosys": [(RET, ERRNO | ENOSYS)],
            "kill": [(RET, KILL_PROCESS)]}
    head.append((RET, ALLOW))
    labels, position = {}, len(head)
    for label, block in tail.items():
        labels[label] = position
        position += len(block)
    program = []
    for index, item in enumerate(head + [i for block in tail.values() for i in block]):
        code, k = item[0], item[1]
        if code in (JEQ, JGE, JSET):
            jt, jf = (0 if target is None else labels[target] - index - 1 for target in item[2:4])
            program.append((code, jt, jf, k))
        else:
            program.append((code, 0, 0, k))
    return program


def filter_bytes():
    """The compiled filter for bwrap's `--seccomp`, or None where this machine is not x86_64."""
    if platform.machine() != "x86_64":
        return None
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in _program())
