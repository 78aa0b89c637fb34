"""The probe half of every hidden check, one module per assignment: probe_NAME(student, inputs) -> raw outputs.

These modules run inside the jail, next to the student's code, so they hold nothing secret: no reference answers
and no judging. An optional warm_up() runs once before any student code (for one-off imports that would
otherwise count against a check's time).
"""
from __future__ import annotations

import importlib
from typing import Callable


def load(assignment: str) -> dict[str, Callable]:
    """{check name: probe} of an assignment."""
    module = importlib.import_module(f"{__name__}.{assignment}")
    return {name.removeprefix("probe_"): function for name, function in vars(module).items()
            if name.startswith("probe_") and callable(function)}


def warm_up(assignment: str) -> None:
    getattr(importlib.import_module(f"{__name__}.{assignment}"), "warm_up", lambda: None)()
