"""The sandboxed half of grading: a separate `python -I` process started by autograder/sandbox.py.

1. import torch (one thread) and the assignment's probes, then tell the parent it is ready;
2. read the request (the submission's definitions, the checks with their inputs and seeds, the limits);
3. cap address space, CPU time and file sizes; make the reference solutions unimportable;
4. execute the definitions one statement at a time, remembering which failed and why;
5. for each check, fork a copy of this process, run the check's probe there and relay its raw outputs. The copy
   keeps checks from disturbing each other (monkeypatching, exhausted memory) and can be killed alone when it
   overruns its time; this process then reports how the copy ended.

Messages go to the pipe whose descriptor is argv[1], never to stdout (discarded by the parent); each copy writes
to a pipe of its own, relayed only if it holds exactly one message. Nothing here
judges and this process holds no reference answers: whatever the submission does here can only change the raw
outputs, which the parent compares with values it computes itself once this process is gone.
"""
from __future__ import annotations

import __future__
import ast
import builtins
import importlib
import importlib.abc
import linecache
import os
import random
import resource
import select
import signal
import socket
import sys
import time

import numpy as np
import torch

from autograder import checks
from autograder.probing import SUBMISSION_FILE, NotDefined, StudentError, Submission, describe, one_line, raw
from autograder.registry import POINTS
from autograder.sandbox import HEADER, MAX_FRAME_BYTES, REQUEST_FILE, STARTUP_SECONDS, encode_frame

BLOCKED_PACKAGES = {"solutions"}  # the reference answers
FILE_SIZE_BYTES = 64 << 20
_exit, _write = os._exit, os.write  # bound before any student code can replace them


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_write(fd, view):]


def send(fd: int, message: dict) -> None:
    _write_all(fd, encode_frame(message))


class _BlockReference(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"{fullname} is not available when grading: submit your own code")
        return None


def _limit_resources(memory_bytes: int, cpu_seconds: int) -> None:
    """Per-process limits, inherited by every fork: the address space grows at most memory_bytes beyond what
    Python + torch use now (a 20 GB allocation fails with an error), CPU time is capped as a backstop to the
    parent's wall-clock deadlines, files written stay small and crashes leave no core dumps."""
    limits = [(resource.RLIMIT_CPU, cpu_seconds), (resource.RLIMIT_FSIZE, FILE_SIZE_BYTES), (resource.RLIMIT_CORE, 0)]
    if sys.platform.startswith("linux"):  # elsewhere RLIMIT_AS is not enforced
        with open("/proc/self/statm") as statm:
            address_space = int(statm.read().split()[0]) * resource.getpagesize()
        limits.append((resource.RLIMIT_AS, address_space + memory_bytes))
    for kind, value in limits:
        _, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))  # hard = soft: the student's code cannot raise it again


def _defined_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).split(".")[0] for alias in statement.names]
    return [node.id for node in ast.walk(statement) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)]


def execute(cells: list[dict]) -> tuple[dict, dict[str, str]]:
    """Run the kept statements in a fresh namespace. Returns it and {name: why its definition failed}."""
    namespace = {"__name__": "__submission__", "__builtins__": builtins}
    failed: dict[str, str] = {}
    flags = 0  # `from __future__ import annotations` in a cell holds for the cells after it, as in IPython
    for cell in cells:
        filename = SUBMISSION_FILE.format(cell["label"])
        linecache.cache[filename] = (len(cell["source"]), None, cell["source"].splitlines(True), filename)
        body = ast.parse(cell["source"]).body
        for index in cell["keep"]:
            statement = body[index]
            names = _defined_names(statement)
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                for alias in statement.names:
                    flags |= getattr(getattr(__future__, alias.name, None), "compiler_flag", 0)
            try:
                module = ast.Module([statement], type_ignores=[])
                exec(compile(module, filename, "exec", flags=flags, dont_inherit=True), namespace)
            except BaseException as exc:  # a failing definition must not stop the others
                failed.update(dict.fromkeys(names, describe(f"{cell['label']}, line {statement.lineno}", exc)))
            else:
                for name in names:
                    failed.pop(name, None)
    return namespace, failed


def _probe(check: checks.Check, inputs: dict, seed: int, student: Submission) -> dict:
    """Run one probe (in a forked copy): the result frame's content."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    try:
        return {"outputs": raw(check.probe(student, inputs))}
    except (NotDefined, StudentError) as err:
        return {"error": str(err)}
    except BaseException as exc:  # the student's objects misbehaved outside a call, e.g. a property raised
        return {"error": describe(f"checking {check.name}", exc)}


def _exit_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    code = os.WEXITSTATUS(status)
    return "ok" if code == 0 else f"exit {code}"


def _await_copy(pid: int, results: int, timeout: float) -> tuple[bytes, str]:
    """Read what a forked copy writes to its result pipe until it exits (killing it at the deadline).
    Returns the bytes and how it ended: 'ok', 'timeout', 'exit 3', 'signal SIGSEGV'."""
    deadline, received, status = time.monotonic() + timeout, bytearray(), None
    while status is None:
        ready, _, _ = select.select([results], [], [], 0.01)
        if ready:
            chunk = os.read(results, 1 << 20)
            received += chunk
            if len(received) > MAX_FRAME_BYTES:
                os.kill(pid, signal.SIGKILL)
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = _exit_status(code)
        elif time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = "timeout"
    while select.select([results], [], [], 0)[0]:  # what it wrote just before exiting (processes it started
        chunk = os.read(results, 1 << 20)  # may hold the pipe open: read what is there, don't wait for EOF)
        if not chunk or len(received) > MAX_FRAME_BYTES:
            break
        received += chunk
    return bytes(received), status


def _one_frame(data: bytes) -> bool:
    """Is `data` exactly one complete frame? (More means the student's code wrote into the pipe too.)"""
    return len(data) >= HEADER.size and HEADER.unpack(data[:HEADER.size])[0] == len(data) - HEADER.size


def run_check(fd: int, check: checks.Check, item: dict, student: Submission, timeout: float) -> None:
    """Probe one check in a forked copy, with its own result pipe; relay its one result and how it ended.

    The copy closes the channel to the parent before running any student code, so the student's code can
    only write into the copy's own pipe, and a second frame there fails this check alone."""
    results, copy_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: probe, report, and leave without running anything else of this process
        try:
            os.close(fd)
            os.close(results)
            result = _probe(check, item["inputs"], item["seed"], student)
            try:
                send(copy_end, {"kind": "result", "check": check.name, **result})
            except BaseException as exc:  # e.g. the submission replaced torch.save
                send(copy_end, {"kind": "result", "check": check.name,
                                "error": describe(f"sending {check.name}'s outputs", exc)})
        finally:
            _exit(0)
    os.close(copy_end)
    data, status = _await_copy(pid, results, timeout)
    os.close(results)
    if _one_frame(data):
        _write_all(fd, data)
    elif data:
        send(fd, {"kind": "result", "check": check.name,
                  "error": f"{check.name}: the grader's result channel was written to by the submission"})
    send(fd, {"kind": "end", "check": check.name, "status": status})


def _read_request() -> dict:
    deadline = time.monotonic() + STARTUP_SECONDS
    parent = os.getppid()
    while not os.path.exists(REQUEST_FILE):
        if time.monotonic() > deadline or os.getppid() != parent:
            _exit(3)  # the parent gave up or died
        time.sleep(0.005)
    return torch.load(REQUEST_FILE, weights_only=True)


def _single_threaded() -> None:
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)


def main() -> None:
    """A worker started on its own: argv[1] is the result pipe, argv[2] the assignment, warmed up at once (while
    the parent is still preparing the inputs)."""
    _single_threaded()
    checks.warm_up(sys.argv[2])
    serve(int(sys.argv[1]))


def prepared_main() -> None:
    """A prepared worker (autograder.sandbox.PreparedSandbox): import and warm up everything once, then fork a
    fresh worker for each result pipe received on the socket argv[1], until the socket closes. Each worker
    gets its own session and scratch folder, exactly as if it had been started on its own."""
    _single_threaded()
    for assignment in POINTS:
        checks.load(assignment)
        checks.warm_up(assignment)
    control = socket.socket(fileno=int(sys.argv[1]))
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:  # reap the workers that have ended
                pass
        except ChildProcessError:
            pass
        try:
            message, fds, _, _ = socket.recv_fds(control, 4096, 1)
        except OSError:
            _exit(0)
        if not message or len(fds) != 1:
            _exit(0)  # the grader closed the socket
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                os.setsid()
                scratch = os.fsdecode(message)
                os.chdir(scratch)
                os.environ.update(HOME=scratch, TMPDIR=scratch)
                serve(fds[0])
            finally:
                _exit(0)
        os.close(fds[0])
        control.sendall(f"{pid}\n".encode())


def serve(fd: int) -> None:
    """Grade one request, sending messages to the pipe fd."""
    send(fd, {"kind": "ready"})
    request = _read_request()
    suite = checks.load(request["assignment"])
    checks.warm_up(request["assignment"])
    sys.meta_path.insert(0, _BlockReference())
    _limit_resources(request["memory_bytes"], request["cpu_seconds"])
    namespace, failed = execute(request["cells"])
    send(fd, {"kind": "setup", "failed": {name: one_line(why) for name, why in failed.items()}})
    student = Submission(namespace, failed)
    for item in request["checks"]:
        run_check(fd, suite[item["name"]], item, student, request["timeout"])
    _exit(0)
