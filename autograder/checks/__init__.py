"""The hidden checks, one module per assignment (conv_vae, interpolation, new_dataset).

A check NAME (listed with its points in autograder/registry.py) is three functions of its module:

    inputs_NAME(generator) -> dict    parent: the inputs the student's code will see (seeded, so fixed)
    probe_NAME(student, inputs) -> dict
                                      sandbox: calls the student's code (student.kl_divergence, ...) and
                                      returns what came back, deciding nothing
    judge_NAME(inputs, outputs)       parent: `assert`s with teaching messages, comparing the outputs with
                                      the reference solutions and known answers

A module may also define warm_up(), which the sandbox runs once before the student's code: for one-off costs (a
first import) that would otherwise count against a check's time limit.

Judges import the reference (`solutions`) inside the function: these modules are also imported in the sandbox,
which must never hold reference answers.
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
    probe: Callable
    judge: Callable


def warm_up(assignment: str) -> None:
    """Run the assignment module's warm_up(), if it has one (in the sandbox, before any student code)."""
    getattr(importlib.import_module(f"autograder.checks.{assignment}"), "warm_up", lambda: None)()


def import_references() -> None:
    """Import the reference solutions the judges use (parent only), ahead of judging: grade() does it while the
    sandbox starts, instead of paying the import (torchvision included) after the sandbox is done."""
    importlib.import_module("solutions")


def load(assignment: str) -> dict[str, Check]:
    """The checks of an assignment by name, in grading order."""
    module = importlib.import_module(f"autograder.checks.{assignment}")
    return {name: Check(name, getattr(module, f"inputs_{name}"), getattr(module, f"probe_{name}"),
                        getattr(module, f"judge_{name}"))
            for name in check_names(assignment)}
