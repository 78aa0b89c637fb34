"""The jail's trusted processes: a zygote that imports everything once, and a relay per submission.

autograder/sandbox.py starts `zygote_main` inside bubblewrap (or, where that is missing, as a plain process) with a
control socket. Per submission the grader sends one end of a fresh socket pair over it, and:

    zygote (imports torch, the probes and what notebooks import; never runs student code)
      `- spawner: new user, PID, mount, network, IPC and UTS namespaces (namespaces.enter); waits for the relay
           `- relay, the first process of the new PID namespace: drops every capability, reads the request from
              its socket, and for each stage forks a child and relays what that child wrote. It never runs student
              code, and is the only process of the submission that holds the grader's socket.
                 |- extract child: parses the submission's bytes (notebook JSON, Python) into definitions
                 `- one check child per check: executes the definitions, runs the probe, writes one frame

Each child closes the relay's socket before anything else, caps its memory, CPU time, file size and process
count, and can write only into its own pipe; the relay accepts from it at most the marker that the definitions
ran and one frame, under its own deadlines, and kills every other process of the namespace before the next check.
When the relay exits, the kernel kills whatever the submission left behind: its PID namespace dies with it.

Without namespaces (level "process") the same processes run, each child in a session of its own, with the same
limits, but the submission runs as the grader's user and sees the grader's files and processes.
"""
from __future__ import annotations

import importlib
import json
import os
import resource
import select
import signal
import socket
import sys
import time

from . import namespaces, probes, wire
from .execute import execute, probe
from .extract import SubmissionError, definitions, from_bytes

ASSIGNMENTS = ("conv_vae", "interpolation", "new_dataset")
SCRATCH_BYTES = 64 << 20  # the submission's whole writable space (its /tmp), in memory
FILE_SIZE_BYTES = 16 << 20
MAX_PROCESSES = 32  # per submission, the relay included (in its own user namespace only)
MAX_OPEN_FILES = 1024
MAX_CHILD_OUTPUT = wire.MAX_PAYLOAD_BYTES + wire.HEADER.size + 1
DEFINED = b"D"  # what a check child writes once the definitions have run
# What notebooks commonly import, imported once here so that every check child starts with them.
PRELOAD = ("numpy", "torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils.data",
           "torch.distributions", "torchvision", "torchvision.transforms", "torchvision.transforms.v2", "PIL.Image",
           "matplotlib", "matplotlib.pyplot", "tqdm", "tqdm.auto", "course_utils.data", "course_utils.devices",
           "course_utils.plotting", "course_utils.seeding", "IPython.core.inputtransformer2")
_exit, _write = os._exit, os.write


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_write(fd, view):]


def _keep_only(*fds: int) -> None:
    """Close every descriptor but 0-2 and fds (no process may hold what its role does not need)."""
    low = 3
    for fd in sorted(fds):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, MAX_OPEN_FILES * 64)


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:  # no /proc (not Linux): RLIMIT_AS is not enforced there anyway
        return 0


def zygote_main() -> None:
    """argv[1]: the control socket's descriptor; argv[2]: 'namespaces' inside bubblewrap, else 'process'."""
    control = socket.socket(fileno=int(sys.argv[1]))
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - not installed here: a notebook importing it imports it itself
            pass
    for assignment in ASSIGNMENTS:
        probes.load(assignment)
        probes.warm_up(assignment)
    why = namespaces.available(SCRATCH_BYTES) if sys.argv[2] == "namespaces" else "not started in bubblewrap"
    control.sendall(json.dumps({"namespaces": why is None, "why": why}).encode() + b"\n")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # nothing of this process or its children reaches the grader's terminal
        os.dup2(devnull, fd)
    while True:
        _reap()
        try:
            message, fds, _, _ = socket.recv_fds(control, 4096, 1)
        except OSError:
            _exit(0)
        if not message or len(fds) != 1:
            _exit(0)  # the grader is gone
        if os.fork() == 0:
            _spawner(fds[0], json.loads(message), isolated=why is None)
        os.close(fds[0])


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _spawner(connection: int, settings: dict, isolated: bool) -> None:
    """Give the submission its namespaces, start its relay and wait for it."""
    try:
        _keep_only(connection)
        address_space = _address_space()
        if isolated:
            namespaces.enter(SCRATCH_BYTES)
            scratch = "/tmp"
        else:
            os.setsid()
            scratch = settings["scratch"]
        relay = os.fork()
        if relay == 0:
            Relay(connection, scratch, isolated, address_space).serve()
        os.close(connection)
        os.waitpid(relay, 0)
    except BaseException as err:  # noqa: BLE001 - tell the grader why, if the socket still works
        try:
            _write_all(connection, wire.frame(wire.encode({"kind": "failed", "why": f"{type(err).__name__}: {err}"})))
        except OSError:
            pass
    finally:
        _exit(0)


class Relay:
    """The submission's trusted process: reads the request, runs each stage in a child, relays what it wrote."""

    def __init__(self, connection: int, scratch: str, isolated: bool, address_space: int):
        self.connection, self.scratch, self.isolated = connection, scratch, isolated
        self.address_space = address_space
        self.children: list[int] = []

    def serve(self) -> None:
        try:
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
                signal.signal(number, signal.SIG_DFL)  # the first process of a namespace ignores them then
            os.setsid()  # the submission's process group: the zygote and the spawner are outside it
            if self.isolated:
                namespaces.drop_privileges()
            os.chdir(self.scratch)
            os.environ.update(HOME=self.scratch, TMPDIR=self.scratch, MPLCONFIGDIR=self.scratch)
            request = wire.decode(self._read_request())
            self._grade(request)
        except BaseException as err:  # noqa: BLE001 - the grader reports it as a broken installation
            self._send({"kind": "failed", "why": f"{type(err).__name__}: {err}"})
        finally:
            _exit(0)

    def _read_request(self) -> bytes:
        data = b""
        while len(data) < wire.HEADER.size or len(data) < wire.HEADER.size + wire.HEADER.unpack_from(data)[0]:
            chunk = os.read(self.connection, 1 << 20)
            if not chunk:
                _exit(0)  # the grader gave up
            data += chunk
        return data[wire.HEADER.size:]

    def _send(self, message: dict) -> None:
        try:
            _write_all(self.connection, wire.frame(wire.encode(message)))
        except OSError:
            _exit(0)  # the grader is gone

    def _grade(self, request: dict) -> None:
        timeout = float(request["timeout"])
        self.limits = {"memory": self.address_space + int(request["memory_bytes"]),
                       "cpu": int(request["cpu_seconds"])}
        output, status, _ = self._run(_extract_child, (request["submission"],), timeout, needs_marker=False)
        try:
            extracted = wire.decode(output[wire.HEADER.size:]) if status == "ok" else None
        except wire.WireError:
            extracted = None
        if not isinstance(extracted, dict):
            self._send({"kind": "extracted", "error": "the grader could not read this submission (the process "
                                                      f"reading it ended: {status})", "notes": []})
            self._send({"kind": "done"})
            return
        self._send({"kind": "extracted", "error": extracted.get("error"), "notes": extracted.get("notes", [])})
        if extracted.get("error") is None:
            functions = probes.load(request["assignment"])
            defined, status = True, "ok"
            for item in request["checks"]:
                if not defined and status == "timeout":  # the definitions never finish: don't wait for them again
                    self._send({"kind": "result", "check": item["name"], "status": status, "defined": False,
                                "output": b""})
                    continue
                output, status, defined = self._run(_check_child, (extracted["cells"], functions[item["name"]],
                                                                    item), timeout, needs_marker=True)
                self._send({"kind": "result", "check": item["name"], "status": status, "defined": defined,
                            "output": output})
        self._send({"kind": "done"})

    def _run(self, target, arguments: tuple, timeout: float, needs_marker: bool) -> tuple[bytes, str, bool]:
        """Fork a child running target(pipe, *arguments) and collect what it writes: (its frame, how it ended,
        whether it got past the definitions).

        A check child must write DEFINED within `timeout` (its definitions ran) and then end within `timeout`
        more; the frame it wrote comes back without the marker. How it ended: 'ok', 'timeout', 'exit 3',
        'signal SIGSEGV', or 'garbled' when it wrote anything but the marker and one frame."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            self._child(write_end, target, arguments)
        os.close(write_end)
        received, status = self._collect(pid, read_end, timeout, needs_marker)
        os.close(read_end)
        self._kill_the_rest(pid)
        defined = not needs_marker or received.startswith(DEFINED)
        body = received[len(DEFINED):] if needs_marker and defined else received
        if status == "garbled" or (body and not defined) or (body and not (
                len(body) >= wire.HEADER.size and wire.HEADER.unpack_from(body)[0] == len(body) - wire.HEADER.size)):
            return b"", "garbled", defined
        return body, status, defined

    def _child(self, write_end: int, target, arguments: tuple) -> None:
        try:
            _keep_only(write_end)  # the relay's socket first of all
            if not self.isolated:
                os.setsid()  # so that the relay can kill everything it starts
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.close(devnull)
            _limit_resources(self.limits["memory"], self.limits["cpu"], self.isolated)
            target(write_end, *arguments)
        finally:
            _exit(0)

    @staticmethod
    def _collect(pid: int, read_end: int, timeout: float, needs_marker: bool) -> tuple[bytes, str]:
        received = bytearray()
        marked = not needs_marker
        deadline = time.monotonic() + timeout
        status = None
        while status is None:
            if select.select([read_end], [], [], 0.01)[0]:
                received += os.read(read_end, 1 << 20)
                if len(received) > MAX_CHILD_OUTPUT:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    return b"", "garbled"
            if not marked and received.startswith(DEFINED):
                marked, deadline = True, time.monotonic() + timeout
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = _exit_status(code)
            elif time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                status = "timeout"
        while len(received) <= MAX_CHILD_OUTPUT and select.select([read_end], [], [], 0)[0]:
            chunk = os.read(read_end, 1 << 20)  # what it wrote just before exiting (processes it started may
            if not chunk:  # hold the pipe open: read what is there, never wait for the end of the stream)
                break
            received += chunk
        return bytes(received), status

    def _kill_the_rest(self, pid: int) -> None:
        """Kill whatever the child left running: in the namespace, every process but this one."""
        try:
            os.kill(-1, signal.SIGKILL) if self.isolated else os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # orphans of the namespace are this process's children to reap
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    if not self.isolated:
                        break
                    time.sleep(0.002)
            except ChildProcessError:
                break


def _exit_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    code = os.WEXITSTATUS(status)
    return "ok" if code == 0 else f"exit {code}"


def _limit_resources(memory_bytes: int, cpu_seconds: int, isolated: bool) -> None:
    """Per-process limits, inherited by every fork and fixed (hard = soft): address space (a 20 GB allocation
    fails with an error), CPU time (a backstop to the deadlines), file size, no core dumps, and in the
    submission's own user namespace a process count (a fork bomb stops at MAX_PROCESSES)."""
    limits = [(resource.RLIMIT_CPU, cpu_seconds), (resource.RLIMIT_FSIZE, FILE_SIZE_BYTES), (resource.RLIMIT_CORE, 0),
              (resource.RLIMIT_NOFILE, MAX_OPEN_FILES)]
    if sys.platform.startswith("linux") and memory_bytes:  # elsewhere RLIMIT_AS is not enforced
        limits.append((resource.RLIMIT_AS, memory_bytes))
    if isolated:  # counted per user namespace; outside one it would count every process of the grader's user
        limits.append((resource.RLIMIT_NPROC, MAX_PROCESSES))
    for kind, value in limits:
        _, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))


def _extract_child(pipe: int, submission: dict) -> None:
    """Parse the submission (its bytes, or a kernel's cell sources) into the definitions to execute."""
    try:
        if "sources" in submission:
            code = definitions([(label, source) for label, source in submission["sources"]])
            code.notes[:0] = submission.get("notes", [])
        else:
            code = from_bytes(submission["name"], submission["data"])
        message = {"cells": [{"label": c.label, "source": c.source, "keep": c.keep} for c in code.cells],
                   "notes": code.notes, "error": None}
    except SubmissionError as err:
        message = {"cells": [], "notes": [str(err)], "error": str(err)}
    _write_all(pipe, wire.frame(wire.encode(message)))


def _check_child(pipe: int, cells: list[dict], function, item: dict) -> None:
    """Execute the definitions, say so, run the probe and write its one frame."""
    student = execute(cells)
    _write_all(pipe, DEFINED)
    result = probe(item["name"], function, student, item["inputs"], item["seed"])
    try:
        payload = wire.encode({"kind": "result", **result})
    except BaseException as exc:  # noqa: BLE001 - e.g. the submission replaced part of the encoder
        payload = wire.encode({"kind": "result", "error": f"{item['name']}: its outputs could not be sent "
                                                          f"({type(exc).__name__})"})
    _write_all(pipe, wire.frame(payload))
