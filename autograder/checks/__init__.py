"""The judge half of every hidden check, one module per assignment (conv_vae, interpolation, new_dataset).

A check NAME (listed with its points in autograder/registry.py) is, in its assignment's module here:

    inputs_NAME(generator) -> dict    the inputs the student's code will see (seeded, so fixed)
    judge_NAME(inputs, outputs)       `assert`s with teaching messages, comparing the outputs with the
                                      reference solutions and known answers

and, in autograder/jail/probes/<assignment>.py, its probe half: probe_NAME(student, inputs), which calls the
student's code inside the jail and returns what came back. Both run in the grader's processes only after the jail
has handed back its outputs; the reference (`solutions`) is never in the jail's view.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from autograder.registry import check_names


@dataclass(frozen=True)
class Check:
    name: str
    inputs: Callable
    judge: Callable


def import_references() -> None:
    """Import the reference solutions the judges use, ahead of judging: grade() does it while the jail starts,
    instead of paying the import (torchvision included) after the probes are done."""
    importlib.import_module("solutions")


def load(assignment: str) -> dict[str, Check]:
    """The checks of an assignment by name, in grading order."""
    module = importlib.import_module(f"autograder.checks.{assignment}")
    return {name: Check(name, getattr(module, f"inputs_{name}"), getattr(module, f"judge_{name}"))
            for name in check_names(assignment)}
