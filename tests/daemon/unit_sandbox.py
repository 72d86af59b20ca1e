"""Run a command under the system-call sandbox a systemd unit file asks for.

    python tests/daemon/unit_sandbox.py UNIT_FILE COMMAND [ARG...]

The tests cannot start the unit (systemd is not PID 1 here), yet its filters are what
could break the daemon at run time: a library that needs a system call the unit
refuses, or memory both writable and executable. So this loads, with libseccomp, the
filters systemd 252 builds from the unit (src/shared/seccomp-util.c), then runs the
command under them:

- ``SystemCallFilter=`` (an allow-list, then ``~`` removals, expanded by
  ``systemd-analyze syscall-filter``) with ``SystemCallErrorNumber=``;
- ``MemoryDenyWriteExecute=yes``: ``mmap`` writable and executable, ``mprotect`` /
  ``pkey_mprotect`` to executable and ``shmat(SHM_EXEC)`` fail with EPERM;
- ``RestrictAddressFamilies=``: ``socket()`` of any other family fails with
  EAFNOSUPPORT;
- ``NoNewPrivileges=`` (libseccomp sets it).

Namespaces, mounts and users (``ProtectSystem=``, ``PrivateUsers=`` ...) are not
emulated: they need systemd, and ``systemd-analyze verify`` checks their syntax.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import socket
import subprocess
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_MASKED_EQ = 4, 5, 7
PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
AF_MAX = 46  # linux/socket.h
# systemd lets these through whatever the filter says (systemd.exec(5)).
ALWAYS_ALLOWED = {"execve", "exit", "exit_group", "getrlimit", "rt_sigreturn", "sigreturn"}


def act_errno(number: int) -> int:
    return 0x00050000 | (number & 0xFFFF)


class ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


Rule = tuple[int, str, tuple[tuple[int, int, int, int], ...]]  # action, syscall, comparisons


def service_directives(unit: Path) -> list[tuple[str, str]]:
    """The ``[Service]`` section's ``Key=value`` lines, in order (keys repeat)."""
    section, directives = None, []
    for raw in unit.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line:
            key, _, value = line.partition("=")
            directives.append((key.strip(), value.strip()))
    return directives


@cache
def expand(name: str) -> frozenset[str]:
    """The system calls of ``@group`` (nested groups expanded), or ``{name}``."""
    if not name.startswith("@"):
        return frozenset({name})
    listing = subprocess.run(
        ["systemd-analyze", "syscall-filter", name], check=True, capture_output=True, text=True
    ).stdout
    calls: set[str] = set()
    for line in listing.splitlines()[1:]:
        item = line.strip()
        if item and not item.startswith("#"):
            calls |= expand(item)
    return frozenset(calls)


def allowed_syscalls(directives: Iterable[tuple[str, str]]) -> set[str] | None:
    """What ``SystemCallFilter=`` lines allow; None: no filter."""
    allowed: set[str] | None = None
    for key, value in directives:
        if key != "SystemCallFilter" or not value:
            continue
        deny = value.startswith("~")
        calls = set().union(*(expand(n) for n in value.lstrip("~").split()))
        if allowed is None and deny:
            raise SystemExit("a unit whose first SystemCallFilter= denies is not emulated")
        allowed = calls if allowed is None else (allowed - calls if deny else allowed | calls)
    return None if allowed is None else allowed | ALWAYS_ALLOWED


def filters(directives: list[tuple[str, str]]) -> list[tuple[int, list[Rule]]]:
    """(default action, rules) of each seccomp filter the unit asks for."""
    values = dict(directives)
    made: list[tuple[int, list[Rule]]] = []
    if values.get("MemoryDenyWriteExecute") == "yes":
        wx = PROT_WRITE | PROT_EXEC
        made.append(
            (
                SCMP_ACT_ALLOW,
                [
                    (act_errno(errno.EPERM), "mmap", ((2, SCMP_CMP_MASKED_EQ, wx, wx),)),
                    (act_errno(errno.EPERM), "mprotect", ((2, SCMP_CMP_MASKED_EQ, 4, 4),)),
                    (act_errno(errno.EPERM), "pkey_mprotect", ((2, SCMP_CMP_MASKED_EQ, 4, 4),)),
                    (
                        act_errno(errno.EPERM),
                        "shmat",
                        ((2, SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC),),
                    ),
                ],
            )
        )
    families = {
        int(getattr(socket, name)) for name in values.get("RestrictAddressFamilies", "").split()
    }
    if families:
        refused = act_errno(errno.EAFNOSUPPORT)
        rules: list[Rule] = [
            (refused, "socket", ((0, SCMP_CMP_EQ, family, 0),))
            for family in range(AF_MAX)
            if family not in families
        ]
        rules.append((refused, "socket", ((0, SCMP_CMP_GE, AF_MAX, 0),)))
        made.append((SCMP_ACT_ALLOW, rules))
    # Last: once it is loaded, seccomp() itself may be refused.
    allowed = allowed_syscalls(directives)
    if allowed is not None:
        refused = act_errno(getattr(errno, values.get("SystemCallErrorNumber", "EPERM")))
        made.append((refused, [(SCMP_ACT_ALLOW, name, ()) for name in sorted(allowed)]))
    return made


def load(directives: list[tuple[str, str]]) -> None:
    """Load the unit's filters into this process (and so every process it starts)."""
    lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(ArgCmp)
    ]  # fmt: skip
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    for default, rules in filters(directives):
        ctx = lib.seccomp_init(default)
        for action, name, comparisons in rules:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:  # not a system call of this architecture (e.g. a 32-bit one)
                continue
            array = (ArgCmp * max(1, len(comparisons)))(*(ArgCmp(*c) for c in comparisons))
            if lib.seccomp_rule_add_array(ctx, action, number, len(comparisons), array) != 0:
                raise OSError(f"seccomp rule for {name} refused")
        if lib.seccomp_load(ctx) != 0:
            raise OSError("seccomp_load failed")
        lib.seccomp_release(ctx)


if __name__ == "__main__":
    load(service_directives(Path(sys.argv[1])))
    os.execvp(sys.argv[2], sys.argv[2:])
