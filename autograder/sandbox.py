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
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
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


class Worker:
    """One sandbox process. Start it early: it imports torch while the parent prepares the inputs."""

    def __init__(self) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="autograder-"))
        read_fd, write_fd = os.pipe()
        bootstrap = f"import sys; sys.path.insert(0, {PACKAGE_PARENT!r}); from autograder.worker import main; main()"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.scratch), "TMPDIR": str(self.scratch),
               "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "CUDA_VISIBLE_DEVICES": "",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-c", bootstrap, str(write_fd)], cwd=self.scratch, env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(write_fd,), start_new_session=True)
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
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
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
        reason = {"timeout": "timeout", "closed": "exit without a result"}.get(str(err))
        if reason is None:
            return Outcome(error=f"{name}: the grader's result channel was written to by the submission"), False
        return Outcome(error=_status_message(name, reason, timeout)), False
    if len(results) > 1:
        return Outcome(error=f"{name}: the grader's result channel was written to by the submission"), True
    if not results:
        return Outcome(error=_status_message(name, str(message.get("status")), timeout)), True
    result = results[0]
    if isinstance(result.get("error"), str):
        return Outcome(error=result["error"]), True
    return Outcome(outputs=result.get("outputs")), True


@dataclass
class SandboxRun:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    restarts: int = 0


def run_probes(assignment: str, code: Code, checks: list[CheckRequest], timeout: float = DEFAULT_TIMEOUT,
               memory_bytes: int = MEMORY_BYTES, worker: Worker | None = None) -> SandboxRun:
    """Probe every check in the sandbox; a fresh worker takes over after one that had to be killed.

    worker - an already started Worker to use first (started before the inputs were made, to overlap startups).
    """
    run = SandboxRun()
    cells = [{"label": cell.label, "source": cell.source, "keep": cell.keep} for cell in code.cells]
    pending = list(checks)
    while pending:
        worker = worker or Worker()
        try:
            worker.send({"assignment": assignment, "cells": cells, "timeout": float(timeout),
                         "memory_bytes": int(memory_bytes), "cpu_seconds": int(3 * timeout + 60),
                         "checks": [{"name": c.name, "seed": c.seed, "inputs": c.inputs} for c in pending]})
            setup_error = _await_setup(worker, timeout)
            if setup_error:
                run.outcomes.update({c.name: Outcome(error=setup_error) for c in pending})
                break
            for index, check in enumerate(pending):
                run.outcomes[check.name], healthy = _collect(worker, check.name, timeout)
                if not healthy:
                    pending = pending[index + 1:]
                    run.restarts += 1
                    break
            else:
                pending = []
        finally:
            worker.kill()
            worker = None
    return run


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
            return "the grading process ended while executing your definitions (sys.exit/os._exit or a crash at top level?)"
        return "the grader's result channel was written to by the submission"
    return None
