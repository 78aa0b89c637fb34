"""Grading a submission: extract its definitions, probe them in the sandbox, then judge the raw outputs here.

The parent chooses every input (seeded per check, so the same submission always gets the same score), computes
what the outputs should be only after the sandbox is gone, and turns each failed `assert` into the student's
one-line message. A check that fails, raises or times out costs its own points only.
"""
from __future__ import annotations

import time
import warnings
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder import extract, registry
from autograder.probing import one_line
from autograder.sandbox import DEFAULT_TIMEOUT, CheckRequest, Worker, run_probes


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

    @property
    def score(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def max_score(self) -> float:
        return sum(check.max_points for check in self.checks)

    def as_dict(self) -> dict:
        """The --json shape: {"assignment", "score", "max_score", "checks": [{"name", "points", "max_points",
        "passed", "message"}]}."""
        return {"assignment": self.assignment, "score": self.score, "max_score": self.max_score,
                "checks": [asdict(check) for check in self.checks]}


def seed_for(assignment: str, name: str) -> int:
    """Each check's fixed seed (for its inputs and the sandbox's random state)."""
    return zlib.crc32(f"{assignment}/{name}".encode())


def _judge(check, inputs: dict, outcome) -> tuple[bool, str]:
    if outcome.error is not None:
        return False, outcome.error
    if not isinstance(outcome.outputs, dict):
        return False, f"{check.name}: the sandbox returned no outputs"
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


def _validate(assignment: str, names: list[str] | None) -> list[str]:
    """The checks to run (default: all of the assignment's); GradingError for unknown ones or `python -O`."""
    if not __debug__:
        raise registry.GradingError("the judges are assert statements: run Python without -O")
    for name in names or []:
        registry.max_points(assignment, name)
    return names or registry.check_names(assignment)


def grade(assignment: str, code: extract.Code, names: list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
          worker: Worker | None = None) -> Report:
    """Grade extracted code on the given checks (default: all of the assignment's).

    worker - a Worker started earlier for this assignment (grade_file starts it first, so that its startup
    overlaps this process's imports); this function takes it over.
    """
    started = time.monotonic()
    try:
        names = _validate(assignment, names)
        import torch

        from autograder import checks

        suite = checks.load(assignment)
        checks.import_references()
        requests = [CheckRequest(name, seed_for(assignment, name),
                                 suite[name].inputs(torch.Generator().manual_seed(seed_for(assignment, name))))
                    for name in names]
    except BaseException:
        if worker is not None:
            worker.kill()
        raise
    outcomes = run_probes(assignment, code, requests, timeout=timeout, worker=worker)
    results = []
    for request in requests:  # fresh inputs for judging: nothing the sandbox saw is reused
        inputs = suite[request.name].inputs(torch.Generator().manual_seed(request.seed))
        passed, message = _judge(suite[request.name], inputs, outcomes[request.name])
        max_points = registry.max_points(assignment, request.name)
        results.append(CheckResult(request.name, max_points if passed else 0.0, max_points, passed, message))
    return Report(assignment, results, list(code.notes), time.monotonic() - started)


def grade_file(assignment: str, path: str | Path, timeout: float = DEFAULT_TIMEOUT) -> Report:
    """Grade a notebook (.ipynb) or Python file (.py). An unreadable file scores zero, with the reason."""
    _validate(assignment, None)
    path = Path(path)
    if not path.is_file():
        raise registry.GradingError(f"no such submission file: {path}")
    worker = Worker(assignment)  # gets ready while this process reads the file and prepares the inputs
    try:
        code = extract.from_file(path)
    except extract.SubmissionError as err:
        worker.kill()
        return Report(assignment, [CheckResult(name, 0.0, registry.max_points(assignment, name), False, str(err))
                                   for name in registry.check_names(assignment)], [str(err)])
    return grade(assignment, code, timeout=timeout, worker=worker)
