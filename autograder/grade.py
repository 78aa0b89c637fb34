"""Grading a submission: probe it in the jail, then judge the raw outputs here, in limited processes.

The grader chooses every input (seeded per check, so the same submission always gets the same score), decodes
what the jail sends back with a strict decoder (autograder/jail/wire.py), and only then computes what the outputs
should be and judges them, each check in a forked process of its own with a deadline and a memory cap, turning a
failed `assert` into the student's one-line message. A check that fails, raises or times out costs its own points
only.
"""
from __future__ import annotations

import json
import os
import resource
import select
import signal
import sys
import time
import warnings
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder import registry, sandbox
from autograder.jail.probing import one_line
from autograder.sandbox import DEFAULT_TIMEOUT, MAX_SUBMISSION_BYTES, CheckRequest

JUDGE_SECONDS = 20.0  # per check: judges recompute the reference on small inputs, well under a second
JUDGE_MEMORY_BYTES = 2 << 30  # address space a judge may add to the grader's


@dataclass
class CheckResult:
    name: str
    points: float
    max_points: float
    passed: bool
    message: str


@dataclass
class Report:
    assignment: str
    checks: list[CheckResult]
    notes: list[str] = field(default_factory=list)  # about the submission as a whole (cells skipped, ...)
    seconds: float = 0.0
    isolation: str = ""  # the level the jail gave (autograder/sandbox.py)

    @property
    def score(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def max_score(self) -> float:
        return sum(check.max_points for check in self.checks)

    def as_dict(self) -> dict:
        """The --json shape: {"assignment", "score", "max_score", "isolation", "checks": [{"name", "points",
        "max_points", "passed", "message"}]}."""
        return {"assignment": self.assignment, "score": self.score, "max_score": self.max_score,
                "isolation": self.isolation, "checks": [asdict(check) for check in self.checks]}


def seed_for(assignment: str, name: str) -> int:
    """Each check's fixed seed (for its inputs and the jail's random state)."""
    return zlib.crc32(f"{assignment}/{name}".encode())


def _judge_here(check, inputs: dict, outcome) -> tuple[bool, str]:
    if outcome.error is not None:
        return False, one_line(outcome.error)
    if not isinstance(outcome.outputs, dict):
        return False, f"{check.name}: the jail returned no outputs"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check.judge(inputs, outcome.outputs)
    except AssertionError as err:
        return False, one_line(err) or f"{check.name} failed"
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError) as err:
        # the outputs were not shaped as the probe returns them: only possible if the submission forged them
        return False, one_line(f"{check.name}: the outputs could not be judged ({type(err).__name__}: {err})")
    return True, "passed"


def judge(check, inputs: dict, outcome, seconds: float = JUDGE_SECONDS,
          memory_bytes: int = JUDGE_MEMORY_BYTES) -> tuple[bool, str]:
    """(passed, message) of one check, judged in a forked process with a deadline and a memory cap, so that no
    output, however crafted, can make the grader itself run out of time or memory."""
    if not hasattr(os, "fork"):
        return _judge_here(check, inputs, outcome)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            if sys.platform.startswith("linux"):
                with open("/proc/self/statm") as statm:
                    size = int(statm.read().split()[0]) * resource.getpagesize()
                resource.setrlimit(resource.RLIMIT_AS, (size + memory_bytes, size + memory_bytes))
            import torch

            torch.set_num_threads(1)
            try:
                verdict = _judge_here(check, inputs, outcome)
            except MemoryError:
                verdict = (False, f"{check.name}: judging the outputs needed more memory than they can fairly need")
            os.write(write_end, json.dumps(verdict).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    received, deadline = b"", time.monotonic() + seconds
    try:
        while (remaining := deadline - time.monotonic()) > 0 and select.select([read_end], [], [], remaining)[0]:
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            received += chunk
    finally:
        os.close(read_end)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    try:
        passed, message = json.loads(received)
        return bool(passed), str(message)
    except ValueError:
        return False, f"{check.name}: its outputs could not be judged within {seconds:g} s and the grader's limits"


def _validate(assignment: str, names: list[str] | None) -> list[str]:
    """The checks to run (default: all of the assignment's); GradingError for unknown ones or `python -O`."""
    if not __debug__:
        raise registry.GradingError("the judges are assert statements: run Python without -O")
    for name in names or []:
        registry.max_points(assignment, name)
    return names or registry.check_names(assignment)


def _zero(assignment: str, names: list[str], why: str, isolation: str, notes: list[str] | None = None) -> Report:
    return Report(assignment, [CheckResult(name, 0.0, registry.max_points(assignment, name), False, why)
                               for name in names], notes if notes is not None else [why], isolation=isolation)


def grade(assignment: str, submission: dict, names: list[str] | None = None,
          timeout: float = DEFAULT_TIMEOUT) -> Report:
    """Grade a submission ({"name", "data"} of a file, or {"sources", "notes"} of a kernel) on the given checks
    (default: all of the assignment's)."""
    started = time.monotonic()
    names = _validate(assignment, names)
    jail = sandbox.jail()  # starts (in the background) while the inputs are made
    import torch

    from autograder import checks

    suite = checks.load(assignment)
    checks.import_references()
    requests = [CheckRequest(name, seed_for(assignment, name),
                             suite[name].inputs(torch.Generator().manual_seed(seed_for(assignment, name))))
                for name in names]
    probed = sandbox.probe(assignment, submission, requests, timeout=timeout)
    level = jail.isolation.level
    if probed.unreadable is not None:
        return _zero(assignment, names, probed.unreadable, level, probed.notes)
    results = []
    for request in requests:  # fresh inputs for judging: nothing the jail saw is reused
        inputs = suite[request.name].inputs(torch.Generator().manual_seed(request.seed))
        passed, message = judge(suite[request.name], inputs, probed.outcomes[request.name])
        max_points = registry.max_points(assignment, request.name)
        results.append(CheckResult(request.name, max_points if passed else 0.0, max_points, passed, message))
    return Report(assignment, results, probed.notes, time.monotonic() - started, level)


def grade_file(assignment: str, path: str | Path, timeout: float = DEFAULT_TIMEOUT) -> Report:
    """Grade a notebook (.ipynb) or Python file (.py). An unreadable or oversized file scores zero, with the
    reason; it is parsed inside the jail."""
    names = _validate(assignment, None)
    path = Path(path)
    if not path.is_file():
        raise registry.GradingError(f"no such submission file: {path}")
    size = path.stat().st_size
    if size > MAX_SUBMISSION_BYTES:
        why = (f"{path.name} is {size / 2**20:.0f} MB; the grader reads submissions up to "
               f"{MAX_SUBMISSION_BYTES / 2**20:g} MB: clear the notebook's outputs and submit it again")
        return _zero(assignment, names, why, sandbox.isolation().level)
    sandbox.jail()  # start it before anything else: it gets ready while this process reads and prepares
    return grade(assignment, {"name": path.name, "data": path.read_bytes()}, timeout=timeout)
