"""The nbgrader side: `autograder.check(...)`, called from a hidden test cell inside the student's kernel.

    autograder.check("conv_vae", "kl_divergence", globals(), points=2)

It grades the code the kernel has executed so far (IPython's input history `In`, definitions only, test cells
left out) with the same sandboxed check as the CLI, prints one line to stdout and returns the points earned,
which nbgrader reads as the cell's partial credit. Nothing goes to stderr (nbgrader would give the cell 0).
"""
from __future__ import annotations

import warnings

from autograder import extract, registry
from autograder.sandbox import DEFAULT_TIMEOUT, use_prepared_sandbox


def check(assignment: str, name: str, namespace: dict, points: float | None = None,
          timeout: float = DEFAULT_TIMEOUT) -> float:
    """Grade one check on the kernel's code. Returns `points` (default: the registry's) if it passes, else 0.0.

    Never raises for the student's mistakes; a wrong assignment or check name is the notebook author's
    mistake and raises GradingError.
    """
    from autograder.grade import grade

    worth = registry.max_points(assignment, name) if points is None else float(points)
    use_prepared_sandbox()  # the kernel grades several cells: import torch in the sandbox once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = grade(assignment, extract.from_namespace(namespace), names=[name], timeout=timeout)
    result = report.checks[0]
    earned = worth if result.passed else 0.0
    print(f"{name}: {earned:g}/{worth:g} - {result.message}", flush=True)
    return earned
