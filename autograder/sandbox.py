"""The grader's side of the jail: start it, hand it a submission, read back what the probes returned.

The grader never runs student code. Each grading process (`grade`, a grade-folder pool process, a notebook
kernel calling `autograder.check`) starts one jail: autograder/jail/zygote.py, inside bubblewrap, seeing only a
read-only Python environment, the probe half of the checks (autograder/jail) and course_utils. The zygote imports
torch once; each submission then runs in namespaces of its own within it (see autograder/jail/zygote.py). Nothing
of the grader, the reference solutions, the judges, the other submissions or the output files is in its view.

Isolation levels, strongest first:
    namespaces  bubblewrap, and per submission its own user, PID, mount, network and IPC namespaces
    process     (bubblewrap or unprivileged user namespaces missing, e.g. macOS) separate processes with resource
                limits only: the submission runs as the grader's user and can read what that user can
`isolation()` says which one this machine gives; grading says it once per run, and `--require-isolation` refuses
to grade below a level.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from autograder.jail import wire

DEFAULT_TIMEOUT = 10.0  # seconds per check, and for executing the definitions
MEMORY_BYTES = 4 << 30  # address space the student's code may add on top of Python + torch
STARTUP_SECONDS = 120.0  # importing torch, generously: grade-folder may start many jails at once
SLACK_SECONDS = 5.0  # the grader's deadline per stage is the jail's own plus this
MAX_SUBMISSION_BYTES = 16 << 20
LEVELS = ("process", "namespaces")  # weakest first
PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
JAIL_ROOT = "/grader"  # where the jail sees autograder/jail and course_utils
# Hidden (an empty read-only folder over them) wherever a folder the jail sees holds them, e.g. a non-editable
# install of this course in site-packages.
SECRET_NAMES = ("solutions", "autograder", "exercises", "tests", "benchmarks")
JAIL_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "USER": "student",
                    "LOGNAME": "student", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
                    "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "OPENBLAS_NUM_THREADS": "1"}


class ChannelError(Exception):
    """The jail closed the connection, overran a deadline or sent something that is not a message."""


class SandboxError(RuntimeError):
    """The jail did not start or broke down before any student code ran: a problem of the grading installation."""


@dataclass(frozen=True)
class Isolation:
    level: str  # one of LEVELS
    detail: str  # what it means here, or why the stronger level is not available

    def __str__(self) -> str:
        return f"{self.level} ({self.detail})"


def _bootstrap(root: str) -> str:
    return f"import sys; sys.path.insert(0, {root!r}); from autograder.jail.zygote import zygote_main; zygote_main()"


def _python_folders() -> list[str]:
    """The folders of the Python environment the jail needs: its installation, the virtual environment and any
    other folder on sys.path outside this repository."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for entry in sys.path:
        path = Path(entry).resolve() if entry else None
        if path and path.is_dir() and REPO not in (path, *path.parents) and path not in REPO.parents:
            folders.add(str(path))
    kept = sorted(folders, key=len)  # a folder inside another one already kept is mounted with it
    return [f for i, f in enumerate(kept) if not any(Path(f).is_relative_to(k) for k in kept[:i])]


def _bubblewrap_command(bwrap: str, program: list[str]) -> list[str]:
    command = [bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--uid", "1000", "--gid", "1000", "--die-with-parent", "--new-session",
               "--clearenv"]
    for name, value in JAIL_ENVIRONMENT.items():
        command += ["--setenv", name, value]
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            command += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            command += ["--ro-bind", top, top]
    for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime"):
        command += ["--ro-bind-try", path, path]
    for folder in _python_folders():
        command += ["--ro-bind", folder, folder]
        for name in SECRET_NAMES:
            if os.path.exists(os.path.join(folder, name)):
                command += ["--tmpfs", os.path.join(folder, name), "--remount-ro", os.path.join(folder, name)]
    command += ["--ro-bind", str(PACKAGE / "jail"), f"{JAIL_ROOT}/autograder/jail",
                "--ro-bind", str(REPO / "course_utils"), f"{JAIL_ROOT}/course_utils",
                "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp"]
    return command + program


@lru_cache(maxsize=1)
def isolation() -> Isolation:
    """The strongest isolation this machine gives (tried once per process: a bubblewrap jail that creates the
    per-submission namespaces). AUTOGRADER_ISOLATION=process forces the weak level (to test it)."""
    weak = "submissions run as your user in separate processes with resource limits, and can read your files"
    if os.environ.get("AUTOGRADER_ISOLATION") == "process":
        return Isolation("process", f"forced by AUTOGRADER_ISOLATION; {weak}")
    if not sys.platform.startswith("linux"):
        return Isolation("process", f"{sys.platform} has no Linux namespaces; {weak}")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation("process", f"bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap); "
                                    f"{weak}")
    test = ("import sys; sys.path.insert(0, '/grader'); from autograder.jail import namespaces; "
            "print(namespaces.available(1 << 20) or 'ok')")
    try:
        result = subprocess.run(_bubblewrap_command(bwrap, [sys.executable, "-I", "-B", "-c", test]),
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return Isolation("process", f"bubblewrap did not run ({err}); {weak}")
    answer = (result.stdout.strip() or result.stderr.strip() or f"exit {result.returncode}").splitlines()[-1]
    if answer != "ok":
        return Isolation("process", f"bubblewrap cannot create the namespaces here ({answer}; are unprivileged user "
                                    f"namespaces disabled?); {weak}")
    return Isolation("namespaces", "bubblewrap; each submission in its own user, PID, mount, network and IPC "
                                   "namespaces, seeing only a read-only Python environment and its own scratch space")


def require(level: str) -> Isolation:
    """This machine's isolation, or SandboxError if it is below `level`."""
    found = isolation()
    if LEVELS.index(found.level) < LEVELS.index(level):
        raise SandboxError(f"isolation level {found.level!r} is below the required {level!r}: {found.detail}")
    return found


class Jail:
    """One zygote, serving the submissions of this grading process one after another."""

    def __init__(self) -> None:
        self.isolation = isolation()
        self.control, theirs = socket.socketpair()
        strong = self.isolation.level == "namespaces"
        program = [sys.executable, "-I", "-B", "-c", _bootstrap(JAIL_ROOT if strong else str(REPO)),
                   str(theirs.fileno()), "namespaces" if strong else "process"]
        command = _bubblewrap_command(shutil.which("bwrap"), program) if strong else program
        environment = JAIL_ENVIRONMENT if strong else dict(JAIL_ENVIRONMENT, PATH=os.environ.get("PATH", "/usr/bin"),
                                                           HOME=tempfile.gettempdir(), TMPDIR=tempfile.gettempdir(),
                                                           MPLCONFIGDIR=tempfile.gettempdir())
        try:
            self.process = subprocess.Popen(command, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                            start_new_session=True, env=environment, cwd=tempfile.gettempdir())
        finally:
            theirs.close()
        self.ready = False

    def wait_ready(self) -> None:
        if self.ready:
            return
        deadline = time.monotonic() + STARTUP_SECONDS
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.control], [], [], remaining)[0]:
                self.close()
                raise SandboxError(f"the grading jail did not start within {STARTUP_SECONDS:g} s")
            chunk = self.control.recv(4096)
            if not chunk:
                error = self.process.stderr.read().decode(errors="replace").strip().splitlines()
                self.close()
                raise SandboxError("the grading jail did not start: " + (error[-1] if error else "no message"))
            line += chunk
        report = json.loads(line)
        if (self.isolation.level == "namespaces") != report["namespaces"]:
            self.close()
            raise SandboxError(f"the grading jail cannot create per-submission namespaces: {report['why']}")
        self.process.stderr.close()
        self.ready = True

    def alive(self) -> bool:
        return self.process.poll() is None

    def connect(self, scratch: str | None) -> socket.socket:
        """A connection to a new relay (a new submission's first process)."""
        self.wait_ready()
        ours, theirs = socket.socketpair()
        try:
            socket.send_fds(self.control, [json.dumps({"scratch": scratch}).encode()], [theirs.fileno()])
        except OSError:
            ours.close()
            raise ChannelError("closed") from None
        finally:
            theirs.close()
        return ours

    def close(self) -> None:
        self.control.close()
        try:
            os.killpg(self.process.pid, 9)
        except ProcessLookupError:
            pass
        self.process.wait()
        if self.process.stderr and not self.process.stderr.closed:
            self.process.stderr.close()


_jail: Jail | None = None
_scratch_root: str | None = None  # where scratch folders go at the process level (None: the temporary folder)


def use_scratch_root(folder: str | None) -> None:
    """Put the scratch folders of process-level grading in `folder` (grade-folder's workspace, removed at the end
    even when a submission kills the process grading it)."""
    global _scratch_root
    _scratch_root = folder


def jail() -> Jail:
    """This process's jail, started now (in the background) if there is none or it died."""
    global _jail
    if _jail is None or not _jail.alive():
        if _jail is not None:
            _jail.close()
        _jail = Jail()
    return _jail


@dataclass
class CheckRequest:
    name: str
    seed: int
    inputs: dict


@dataclass
class Outcome:
    """What became of one check in the jail: the probe's raw outputs, or why there are none."""
    outputs: Any = None
    error: str | None = None


@dataclass
class Probed:
    """What the jail reported for a submission."""
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unreadable: str | None = None  # why the submission could not be read at all


class _Connection:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""

    def send(self, message: dict) -> None:
        try:
            self.sock.sendall(wire.frame(wire.encode(message)))
        except OSError:
            raise ChannelError("closed") from None

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        while len(self.buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
                raise ChannelError("timeout")
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ChannelError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def receive(self, deadline: float) -> dict:
        (size,) = wire.HEADER.unpack(self._read_exactly(wire.HEADER.size, deadline))
        if size > wire.MAX_PAYLOAD_BYTES + (1 << 20):
            raise ChannelError("garbled")
        try:
            message = wire.decode(self._read_exactly(size, deadline))
        except wire.WireError:
            raise ChannelError("garbled") from None
        if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
            raise ChannelError("garbled")
        if message["kind"] == "failed":
            raise SandboxError(f"the grading jail broke down: {message.get('why')}")
        return message


def _status_message(name: str, status: str, defined: bool, timeout: float) -> str:
    if not defined:
        if status == "timeout":
            return (f"your definitions did not finish within {timeout:g} s: top-level code that loops or computes "
                    "(in a class body, a decorator or a default argument?)")
        return "the grading process ended while executing your definitions (sys.exit/os._exit or a crash at top level?)"
    if status == "timeout":
        return f"{name} did not finish within {timeout:g} s: an endless loop, or far too much work?"
    if status.startswith("signal"):
        return (f"{name} crashed the Python process ({status.removeprefix('signal ')}): "
                "look for ctypes, os.kill or native code misuse")
    if status == "ok":
        return f"{name} stopped without a result: don't call os._exit in graded code"
    if status == "closed":
        return f"{name} ended the grading process without returning (os.kill, os.killpg, a crash?)"
    return f"{name} ended the process ({status}) without returning: don't call sys.exit/os._exit in graded code"


CHANNEL_WRITTEN = "{}: the grader's result channel was written to by the submission"


def _outcome(message: dict, timeout: float) -> Outcome:
    """A check's outcome from the relay's report, decoding what the student's process wrote (strictly)."""
    name, output = message.get("check"), message.get("output")
    status, defined = str(message.get("status")), bool(message.get("defined"))
    if status == "garbled":
        return Outcome(error=CHANNEL_WRITTEN.format(name))
    if not isinstance(output, bytes) or not output:
        return Outcome(error=_status_message(name, status, defined, timeout))
    try:
        result = wire.decode(output[wire.HEADER.size:])
    except wire.WireError:
        return Outcome(error=CHANNEL_WRITTEN.format(name))
    if not isinstance(result, dict) or result.get("kind") != "result":
        return Outcome(error=CHANNEL_WRITTEN.format(name))
    if isinstance(result.get("error"), str):
        return Outcome(error=result["error"])
    return Outcome(outputs=result.get("outputs"))


def probe(assignment: str, submission: dict, checks: list[CheckRequest], timeout: float = DEFAULT_TIMEOUT,
          memory_bytes: int = MEMORY_BYTES) -> Probed:
    """Run the submission's probes in this process's jail.

    submission - {"name": file name, "data": its bytes} or {"sources": [(label, code)], "notes": [...]}.
    A check that overruns, crashes or garbles its channel costs its own points; if the whole submission's
    process tree is lost (possible at the process level), a fresh one continues with the next check.
    """
    probed = Probed()
    pending = list(checks)
    restarts = 0
    while pending:
        current = jail()
        scratch = tempfile.mkdtemp(prefix="autograder-", dir=_scratch_root) if current.isolation.level == "process" \
            else None
        try:
            connection = _Connection(current.connect(scratch))
        except ChannelError:
            restarts += 1
            if restarts > 2:
                raise SandboxError("the grading jail keeps dying before it starts a submission") from None
            continue
        try:
            connection.send({"assignment": assignment, "submission": submission, "timeout": float(timeout),
                             "memory_bytes": int(memory_bytes), "cpu_seconds": int(3 * timeout + 60),
                             "checks": [{"name": c.name, "seed": c.seed, "inputs": c.inputs} for c in pending]})
            pending = _collect(connection, probed, pending, timeout)
        finally:
            connection.sock.close()
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
    return probed


def _collect(connection: _Connection, probed: Probed, pending: list[CheckRequest], timeout: float) -> list:
    """Read one relay's reports into probed; the checks still pending if it was lost midway."""
    try:
        extracted = connection.receive(time.monotonic() + timeout + SLACK_SECONDS)
        if extracted.get("kind") != "extracted":
            raise ChannelError("garbled")
        probed.notes = [str(note) for note in extracted.get("notes") or []]
        if extracted.get("error") is not None:
            probed.unreadable = str(extracted["error"])
            return []
        for check in pending:
            message = connection.receive(time.monotonic() + 2 * timeout + SLACK_SECONDS)
            if message.get("kind") != "result" or message.get("check") != check.name:
                raise ChannelError("garbled")
            probed.outcomes[check.name] = _outcome(message, timeout)
        return []
    except ChannelError as err:
        remaining = [c for c in pending if c.name not in probed.outcomes]
        if not remaining:
            return []
        lost = remaining[0].name
        probed.outcomes[lost] = Outcome(error=CHANNEL_WRITTEN.format(lost) if str(err) == "garbled"
                                        else _status_message(lost, str(err), True, timeout))
        return remaining[1:]
