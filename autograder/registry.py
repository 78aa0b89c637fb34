"""Points of every hidden check, in one place: the CLI, `autograder.check` and the notebook builder read it.

Assignment totals: conv_vae 20, interpolation 10, new_dataset 12. The order is the order checks run and print.
"""
from __future__ import annotations

POINTS: dict[str, dict[str, float]] = {
    "conv_vae": {
        "reparameterize": 4.0,
        "kl_divergence": 3.0,
        "vae_loss": 4.0,
        "conv_vae_shapes": 3.0,
        "conv_vae_layers": 3.0,
        "train_vae": 3.0,
    },
    "interpolation": {
        "lerp": 3.0,
        "slerp": 4.0,
        "interpolate": 3.0,
    },
    "new_dataset": {
        "celeba_transform": 3.0,
        "sample_prior": 2.0,
        "sample_near": 2.0,
        "traverse": 2.0,
        "attribute_direction": 3.0,
    },
}


class GradingError(Exception):
    """A usage problem (unknown assignment or check, unreadable path): one line saying what to fix."""


def check_names(assignment: str) -> list[str]:
    """The checks of an assignment, in grading order."""
    if assignment not in POINTS:
        raise GradingError(f"unknown assignment {assignment!r}: use one of {', '.join(POINTS)}")
    return list(POINTS[assignment])


def max_points(assignment: str, name: str) -> float:
    """Points a check is worth (what the notebook's hidden test cell should be worth in nbgrader)."""
    names = check_names(assignment)
    if name not in names:
        raise GradingError(f"unknown check {name!r} of {assignment}: use one of {', '.join(names)}")
    return POINTS[assignment][name]


def total_points(assignment: str) -> float:
    return sum(POINTS[assignment][name] for name in check_names(assignment))
