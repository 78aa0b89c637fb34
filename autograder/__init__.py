"""Hidden checks and the sandboxed grader of the VAE course (instructors only: never shipped to students).

    python -m autograder grade conv_vae submission.ipynb [--json]     one submission
    python -m autograder grade-folder conv_vae submissions/ --jobs 4  a folder, in parallel
    autograder.check("conv_vae", "kl_divergence", globals(), points=2)  from an nbgrader hidden test cell

See autograder/README.md. This module stays light: the sandbox imports the package too.
"""
from __future__ import annotations

from autograder.registry import max_points

__all__ = ["check", "max_points"]


def check(assignment: str, name: str, namespace: dict, points: float | None = None, **options) -> float:
    """See autograder.notebook.check."""
    from autograder.notebook import check as run_check

    return run_check(assignment, name, namespace, points, **options)
