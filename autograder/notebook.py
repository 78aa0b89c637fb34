"""The nbgrader side: `autograder.check(...)`, called from a hidden test cell inside the student's kernel.

    autograder.check("conv_vae", "kl_divergence", globals(), points=2)

It grades the code the kernel has executed so far (IPython's input history `In`, definitions only, test cells
left out) with the same jailed check as the CLI, prints one line to stdout and returns the points earned, which
nbgrader reads as the cell's partial credit. Nothing goes to stderr (nbgrader would give the cell 0).

The kernel ran the student's own cells first, so a submission can tamper with this call: these points are
feedback. `make autograde` regrades every notebook with the isolated CLI and records the CLI's points.
"""
from __future__ import annotations

import inspect
import types
import warnings

from autograder import registry
from autograder.sandbox import DEFAULT_TIMEOUT


def namespace_sources(namespace: dict) -> dict:
    """The submission of a running kernel: IPython's input history `In` when present (the cells as executed).

    Without `In` (plain Python), rebuild the source from the namespace's objects: its modules become imports,
    its functions and classes their source code, and plain constants their repr. Returns {"sources": [(label,
    code)], "notes": [...]}, which the jail parses.
    """
    history = namespace.get("In")
    if isinstance(history, list) and all(isinstance(s, str) for s in history):
        return {"sources": [(f"In[{i}]", source) for i, source in enumerate(history)], "notes": []}
    lines, notes = [], []
    module_name = namespace.get("__name__")
    for name, value in list(namespace.items()):
        if name.startswith("__"):
            continue
        if isinstance(value, types.ModuleType):
            lines.append(f"import {value.__name__} as {name}")
        elif inspect.isfunction(value) or inspect.isclass(value):
            if getattr(value, "__module__", None) != module_name:
                lines.append(f"from {value.__module__} import {value.__qualname__} as {name}")
                continue
            try:
                lines.append(inspect.getsource(value))
            except (OSError, TypeError):
                notes.append(f"the source of {name} is not available; it was skipped")
        elif isinstance(value, (bool, int, float, str)) or value is None:
            lines.append(f"{name} = {value!r}")
    return {"sources": [("namespace", "\n".join(lines))], "notes": notes}


def check(assignment: str, name: str, namespace: dict, points: float | None = None,
          timeout: float = DEFAULT_TIMEOUT) -> float:
    """Grade one check on the kernel's code. Returns `points` (default: the registry's) if it passes, else 0.0.

    Never raises for the student's mistakes; a wrong assignment or check name is the notebook author's
    mistake and raises GradingError.
    """
    from autograder.grade import grade

    worth = registry.max_points(assignment, name) if points is None else float(points)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = grade(assignment, namespace_sources(namespace), names=[name], timeout=timeout)
    result = report.checks[0]
    earned = worth if result.passed else 0.0
    print(f"{name}: {earned:g}/{worth:g} - {result.message}", flush=True)
    return earned
