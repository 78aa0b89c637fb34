"""What runs in a student's process: execute the submission's definitions, then one probe.

Everything here is within reach of the student's code once the definitions have run, so nothing here decides
anything: the probe's raw outputs leave through the one pipe this process has, in the wire format, and are judged
outside the jail.
"""
from __future__ import annotations

import __future__
import ast
import builtins
import linecache
import random

from .probing import SUBMISSION_FILE, NotDefined, StudentError, Submission, describe, raw


def _defined_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).split(".")[0] for alias in statement.names]
    return [node.id for node in ast.walk(statement) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)]


def execute(cells: list[dict]) -> Submission:
    """Run the kept statements ({"label", "source", "keep"} per cell) in a fresh namespace, one at a time, so that
    a failing definition costs only the names it defines."""
    namespace = {"__name__": "__submission__", "__builtins__": builtins}
    failed: dict[str, str] = {}
    flags = 0  # `from __future__ import annotations` in a cell holds for the cells after it, as in IPython
    for cell in cells:
        filename = SUBMISSION_FILE.format(cell["label"])
        linecache.cache[filename] = (len(cell["source"]), None, cell["source"].splitlines(True), filename)
        body = ast.parse(cell["source"]).body
        for index in cell["keep"]:
            statement = body[index]
            names = _defined_names(statement)
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                for alias in statement.names:
                    flags |= getattr(getattr(__future__, alias.name, None), "compiler_flag", 0)
            try:
                module = ast.Module([statement], type_ignores=[])
                exec(compile(module, filename, "exec", flags=flags, dont_inherit=True), namespace)
            except BaseException as exc:  # a failing definition must not stop the others
                failed.update(dict.fromkeys(names, describe(f"{cell['label']}, line {statement.lineno}", exc)))
            else:
                for name in names:
                    failed.pop(name, None)
    return Submission(namespace, failed)


def probe(name: str, function, student: Submission, inputs: dict, seed: int) -> dict:
    """Run one probe: {"outputs": raw outputs} or {"error": message for the student}."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    try:
        return {"outputs": raw(function(student, inputs))}
    except (NotDefined, StudentError) as err:
        return {"error": str(err)}
    except BaseException as exc:  # the student's objects misbehaved outside a call, e.g. a property raised
        return {"error": describe(f"checking {name}", exc)}
