"""Running a submission's code in a separate process that cannot hang, crash or fool the grader.

This side (the parent) never executes student code. It starts autograder/worker.py with `python -I` in a new
session, in a scratch folder, with stdout and stderr discarded and a private pipe for results; hands it the
submission's definitions and the inputs the parent chose; then reads one result per check, each under a
wall-clock deadline. A check that overruns its time, crashes the process or garbles the channel costs that
check only: the worker's whole process group is killed and a fresh worker continues with the next check.
The parent judges the results only after the worker is gone (autograder/grade.py).
"""
from __future__ import annotations

import io
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.extract import Code

DEFAULT_TIMEOUT = 10.0  # seconds per check, and for executing the definitions
MEMORY_BYTES = 4 << 30  # address space the student's code may add on top of Python + torch
STARTUP_SECONDS = 120.0  # importing torch, generously: grade-folder may start many workers at once
SLACK_SECONDS = 5.0  # the parent's deadline per check is the worker's own plus this
MAX_FRAME_BYTES = 256 << 20
REQUEST_FILE = "request.pt"
HEADER = struct.Struct(">Q")  # a frame is its payload's length, then the payload (torch.save of a dict)
PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


class ChannelError(Exception):
    """The worker died, overran a deadline or wrote something that is not a frame."""


class SandboxError(RuntimeError):
    """The worker did not start (before any student code ran): a problem of the grading installation."""


def encode_frame(message: dict) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(message, buffer)
    return HEADER.pack(len(buffer.getvalue())) + buffer.getvalue()


@dataclass
class Outcome:
    """What became of one check in the sandbox: the probe's raw outputs, or why there are none."""
    outputs: Any = None
    error: str | None = None


@dataclass
class CheckRequest:
    name: str
    seed: int
    inputs: dict


def _sandbox_environment(scratch: str) -> dict:
    """The sandbox's whole environment: nothing of the grader's (no tokens, no paths to the course)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1"}


def _python(entry: str, fd: int, cwd: str, *arguments: str) -> subprocess.Popen:
    """`python -I` running autograder.worker's `entry`(), with one inherited descriptor, in a new session."""
    bootstrap = f"import sys; sys.path.insert(0, {PACKAGE_PARENT!r}); from autograder.worker import {entry}; {entry}()"
    return subprocess.Popen([sys.executable, "-I", "-c", bootstrap, str(fd), *arguments], cwd=cwd,
                            env=_sandbox_environment(cwd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, pass_fds=(fd,), start_new_session=True)


class PreparedSandbox:
    """A sandbox process that has imported torch and the checks once and forks a fresh worker per submission.

    Grading many submissions from one process (a grade-folder pool process, a notebook kernel) then skips the
    2-4 s of imports per submission. Each forked worker still runs in its own session, with its own scratch
    folder, limits and result pipe. Its parent is this process, not the grader: a submission that kills its
    parent kills this one, and the next submission gets a new one.
    """

    def __init__(self) -> None:
        self.control, theirs = socket.socketpair()
        try:
            self.process = _python("prepared_main", theirs.fileno(), tempfile.gettempdir())
        finally:
            theirs.close()

    def fork_worker(self, scratch: Path, result_fd: int) -> int | None:
        """A new worker's pid, or None when this process is gone."""
        try:
            socket.send_fds(self.control, [os.fsencode(scratch)], [result_fd])
            self.control.settimeout(STARTUP_SECONDS)
            return int(self.control.recv(64))
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        self.control.close()
        _kill_group(self.process.pid)
        self.process.wait()


_prepared: PreparedSandbox | None = None
_use_prepared = False
_scratch_root: str | None = None  # where workers' scratch folders go (None: the system's temporary folder)


def use_prepared_sandbox(scratch_root: str | None = None) -> None:
    """From now on, this process forks its workers from a PreparedSandbox (started now, in the background).

    scratch_root - a folder for the workers' scratch folders, which its owner deletes at the end: if this
    process is killed (by a submission), the scratch folders it could not clean up go with it.
    """
    global _use_prepared, _prepared, _scratch_root
    _use_prepared, _scratch_root = True, scratch_root
    if _prepared is None:
        _prepared = PreparedSandbox()


def _prepared_worker(scratch: Path, result_fd: int) -> int | None:
    global _prepared
    for _ in range(2):  # the prepared sandbox may have been killed by the previous submission
        if _prepared is None or _prepared.process.poll() is not None:
            if _prepared is not None:
                _prepared.close()
            _prepared = PreparedSandbox()
        pid = _prepared.fork_worker(scratch, result_fd)
        if pid:
            return pid
        _prepared.close()
        _prepared = None
    return None


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # not (yet) a group leader
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Worker:
    """One sandbox process for one submission: started on its own, or forked by the PreparedSandbox when
    use_prepared_sandbox() was called. Start it early: it gets ready while the parent prepares the inputs."""

    def __init__(self, assignment: str) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="autograder-", dir=_scratch_root))
        read_fd, write_fd = os.pipe()
        self.process = None
        try:
            self.pid = _prepared_worker(self.scratch, write_fd) if _use_prepared else None
            if self.pid is None:
                self.process = _python("main", write_fd, str(self.scratch), assignment)
                self.pid = self.process.pid
        finally:
            os.close(write_fd)
        self.fd = read_fd
        self.buffer = b""

    def send(self, request: dict) -> None:
        """Hand over the request as a file in the scratch folder; the worker reads it before any student code."""
        import torch

        torch.save(request, self.scratch / (REQUEST_FILE + ".part"))
        os.replace(self.scratch / (REQUEST_FILE + ".part"), self.scratch / REQUEST_FILE)

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        while len(self.buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                raise ChannelError("timeout")
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise ChannelError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def frame(self, deadline: float) -> dict:
        """The next message from the worker, or ChannelError('timeout' | 'closed' | 'garbled')."""
        import torch

        (size,) = HEADER.unpack(self._read_exactly(HEADER.size, deadline))
        if size > MAX_FRAME_BYTES:
            raise ChannelError("garbled")
        payload = self._read_exactly(size, deadline)
        try:
            message = torch.load(io.BytesIO(payload), weights_only=True)  # never unpickles code
        except Exception:  # any malformed payload: the stream can no longer be trusted
            raise ChannelError("garbled") from None
        if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
            raise ChannelError("garbled")
        return message

    def kill(self) -> None:
        """Kill the worker and everything it started (its session's process group), then clean up."""
        _kill_group(self.pid)
        if self.process is not None:
            self.process.wait()  # a forked worker is reaped by the PreparedSandbox
        os.close(self.fd)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _status_message(name: str, status: str, timeout: float) -> str:
    if status == "timeout":
        return f"{name} did not finish within {timeout:g} s: an endless loop, or far too much work?"
    if status.startswith("signal"):
        return (f"{name} crashed the Python process ({status.replace('signal ', '')}): "
                "look for ctypes, os.kill or native code misuse")
    if status == "ok":
        return f"{name} stopped without a result: don't call os._exit in graded code"
    if status == "closed":
        return f"{name} ended the sandbox process without returning (os.kill, os.killpg, a crash?)"
    return f"{name} ended the process ({status}) without returning: don't call sys.exit/os._exit in graded code"


def _collect(worker: Worker, name: str, timeout: float) -> tuple[Outcome, bool]:
    """Read the frames of one check. Returns its outcome and whether the worker can go on to the next check."""
    deadline = time.monotonic() + timeout + SLACK_SECONDS
    results = []
    try:
        while True:
            message = worker.frame(deadline)
            if message.get("check") != name or message["kind"] not in ("result", "end"):
                raise ChannelError("garbled")
            if message["kind"] == "end":
                break
            results.append(message)
    except ChannelError as err:
        if str(err) == "garbled":
            return Outcome(error=f"{name}: the grader's result channel was written to by the submission"), False
        return Outcome(error=_status_message(name, str(err), timeout)), False
    if len(results) > 1:
        return Outcome(error=f"{name}: the grader's result channel was written to by the submission"), True
    if not results:
        return Outcome(error=_status_message(name, str(message.get("status")), timeout)), True
    result = results[0]
    if isinstance(result.get("error"), str):
        return Outcome(error=result["error"]), True
    return Outcome(outputs=result.get("outputs")), True


def run_probes(assignment: str, code: Code, checks: list[CheckRequest], timeout: float = DEFAULT_TIMEOUT,
               memory_bytes: int = MEMORY_BYTES, worker: Worker | None = None) -> dict[str, Outcome]:
    """Probe every check in the sandbox; a fresh worker takes over after one that had to be killed.

    worker - an already started Worker to use first (started before the inputs were made, to overlap startups).
    """
    outcomes: dict[str, Outcome] = {}
    cells = [{"label": cell.label, "source": cell.source, "keep": cell.keep} for cell in code.cells]
    pending = list(checks)
    while pending:
        worker = worker or Worker(assignment)
        try:
            worker.send({"assignment": assignment, "cells": cells, "timeout": float(timeout),
                         "memory_bytes": int(memory_bytes), "cpu_seconds": int(3 * timeout + 60),
                         "checks": [{"name": c.name, "seed": c.seed, "inputs": c.inputs} for c in pending]})
            setup_error = _await_setup(worker, timeout)
            if setup_error:
                outcomes.update({c.name: Outcome(error=setup_error) for c in pending})
                break
            for index, check in enumerate(pending):
                outcomes[check.name], healthy = _collect(worker, check.name, timeout)
                if not healthy:
                    pending = pending[index + 1:]
                    break
            else:
                pending = []
        finally:
            worker.kill()
            worker = None
    return outcomes


def _await_setup(worker: Worker, timeout: float) -> str | None:
    """Wait for the worker to import torch and execute the definitions; an error message if it did not."""
    try:
        ready = worker.frame(time.monotonic() + STARTUP_SECONDS)
    except ChannelError as err:
        raise SandboxError(f"the grading worker did not start ({err}): run `{sys.executable} -I -c "
                           f"'import autograder.worker'` to see why") from None
    try:
        if ready["kind"] != "ready":
            raise ChannelError("garbled")
        setup = worker.frame(time.monotonic() + timeout + SLACK_SECONDS)
        if setup["kind"] != "setup":
            raise ChannelError("garbled")
    except ChannelError as err:
        if str(err) == "timeout":
            return (f"your definitions did not finish within {timeout:g} s: top-level code that loops or computes "
                    "(in a class body, a decorator or a default argument?)")
        if str(err) == "closed":
            return ("the grading process ended while executing your definitions "
                    "(sys.exit/os._exit or a crash at top level?)")
        return "the grader's result channel was written to by the submission"
    return None
