"""Per-submission Linux namespaces inside the bubblewrap jail, through the C library (Python 3.11 has no
os.unshare).

bubblewrap builds the jail's view of the disk once per grading process: the Python environment and this package,
read-only, and nothing else. Each submission then gets namespaces of its own inside that jail, so that it cannot
see or touch another one, nor the processes that serve it:

- user: it runs as an unprivileged user (uid 1000) that maps to no one outside the jail; its capabilities are
  dropped before any of its code runs, and the mounts below are locked against it;
- PID: it sees only its own processes, and all of them die with the relay, its namespace's first process;
- mount: a private /tmp and /dev/shm (small tmpfs, its only writable places) and an empty /proc;
- network: no interface but a loopback that is down (and no abstract sockets shared with anyone);
- IPC and UTS: no shared memory segments or semaphores with anyone.
"""
from __future__ import annotations

import ctypes
import os

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 0x4000, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
CAPABILITY_VERSION_3 = 0x20080522
LAST_CAPABILITY = 63
INSIDE_ID = 1000  # the submission's uid and gid within its user namespace (not root: exec cannot regain caps)

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source: str, target: str, kind: str | None, flags: int, options: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), kind.encode() if kind else None, flags,
                       options.encode() if options else None), f"mount {target}")


def enter(scratch_bytes: int) -> None:
    """Move the calling (single-threaded) process into new user, mount, network, IPC and UTS namespaces, and its
    next child into a new PID namespace; give them a private /tmp and /dev/shm of scratch_bytes each, and cover
    /proc.

    The caller keeps full capabilities inside the new user namespace until drop_privileges()."""
    outside_uid, outside_gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS),
           "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{INSIDE_ID} {outside_uid} 1"),
                       ("gid_map", f"{INSIDE_ID} {outside_gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here propagates anywhere
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_bytes},mode=0700,uid={INSIDE_ID},"
           f"gid={INSIDE_ID}")
    _mount("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=0555")
    if os.path.isdir("/dev/shm"):  # torch shares tensors between processes through it
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_bytes},mode=0700,uid={INSIDE_ID},"
               f"gid={INSIDE_ID}")


def drop_privileges() -> None:
    """No capabilities, now or after any exec; no ptrace or /proc access to this process by its children."""
    for capability in range(LAST_CAPABILITY + 1):
        _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # EINVAL past the kernel's last capability: fine
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (x2): all empty
    _check(_libc.capset(header, data), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable")


def available(scratch_bytes: int) -> str | None:
    """None if enter() works here (tried in a throwaway child), else why not."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            enter(scratch_bytes)
            drop_privileges()
            os.write(write_end, b"ok")
        except BaseException as err:  # noqa: BLE001 - any failure means: not available
            os.write(write_end, str(err).encode()[:300])
        finally:
            os._exit(0)
    os.close(write_end)
    answer = b""
    while chunk := os.read(read_end, 512):
        answer += chunk
    os.close(read_end)
    os.waitpid(pid, 0)
    return None if answer == b"ok" else answer.decode(errors="replace") or "the test process died"
