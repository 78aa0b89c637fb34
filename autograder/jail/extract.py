"""Which code of a submission gets graded: its top-level definitions, nothing else.

A notebook downloads data, trains and plots; grading needs none of that (and has no data). So from each code
cell (or a .py file, or IPython's input history) we keep the top-level statements that define something --
imports, def, class, assignments of constants -- and drop the rest: calls, loops, training, plotting, magics,
`if __name__ == "__main__":` blocks. Cells that call `autograder.check` (nbgrader's hidden test cells) are left
out. This runs inside the jail, in a process of its own with memory and time limits, since the bytes are the
submission's; the jail then executes the kept statements one by one (autograder/jail/zygote.py).
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field

# Calls allowed in a "constant" assignment: the usual device set-up, e.g.
# `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`, which later defaults may refer to.
CONSTANT_CALLS = {"device", "is_available", "default_device"}


class SubmissionError(Exception):
    """The submission file cannot be read at all (damaged notebook, not UTF-8): one line, graded as zero."""


@dataclass
class Cell:
    """One unit of student code: its (Python) source and which top-level statements of it to execute.

    label - where it came from, for messages: "cell 3", "In[7]" or the file name.
    keep  - indexes into ast.parse(source).body.
    """
    label: str
    source: str
    keep: list[int]


@dataclass
class Code:
    cells: list[Cell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. cells skipped because they do not parse


def _is_constant(node: ast.AST | None) -> bool:
    """Is the expression cheap and free of side effects: literals, names, attributes, arithmetic, lambdas?"""
    if node is None or isinstance(node, (ast.Constant, ast.Name, ast.Lambda)):
        return True
    if isinstance(node, ast.Attribute):
        return _is_constant(node.value)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        return (name in CONSTANT_CALLS and all(map(_is_constant, node.args))
                and all(_is_constant(k.value) for k in node.keywords))
    children = list(ast.iter_child_nodes(node))
    simple = (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp,
              ast.Subscript, ast.Slice, ast.JoinedStr, ast.FormattedValue, ast.Starred)
    return isinstance(node, simple) and all(
        _is_constant(child) for child in children if not isinstance(child, (ast.operator, ast.unaryop, ast.boolop,
                                                                             ast.cmpop, ast.expr_context)))


def _is_name_target(target: ast.AST) -> bool:
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(map(_is_name_target, target.elts))
    return isinstance(target, ast.Name)


def is_definition(statement: ast.stmt) -> bool:
    """Keep this top-level statement? (A try block is kept when everything inside it would be.)"""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                              ast.Pass)):
        return True
    if isinstance(statement, ast.Assign):
        return all(map(_is_name_target, statement.targets)) and _is_constant(statement.value)
    if isinstance(statement, ast.AnnAssign):
        return isinstance(statement.target, ast.Name) and _is_constant(statement.value)
    if isinstance(statement, ast.Try):
        inner = statement.body + statement.orelse + statement.finalbody
        inner += [s for handler in statement.handlers for s in handler.body]
        return all(map(is_definition, inner))
    return False


def _as_python(cell_source: str) -> str:
    """A notebook cell as plain Python: IPython turns `%magic` and `!shell` lines into calls (dropped later)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(cell_source)
    except Exception:  # IPython could not translate it: definitions() reports the cell if it does not parse
        return cell_source


def _calls_check(tree: ast.AST) -> bool:
    """Does the code call autograder.check (an nbgrader test cell)?"""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "check"
               and isinstance(node.func.value, ast.Name) and node.func.value.id == "autograder"
               for node in ast.walk(tree))


def definitions(sources: list[tuple[str, str]]) -> Code:
    """Extract the definitions of (label, python_source) units, in order; units calling autograder.check
    (nbgrader's test cells) are left out."""
    code = Code()
    for label, source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError) as err:  # ValueError: null bytes
            line = f"line {err.lineno}: {err.msg}" if isinstance(err, SyntaxError) else str(err)
            code.notes.append(f"{label} does not parse ({line}); it was skipped")
            continue
        keep = [i for i, statement in enumerate(tree.body) if is_definition(statement)]
        if keep and not _calls_check(tree):
            code.cells.append(Cell(label, source, keep))
    return code


MAX_CODE_BYTES = 1 << 20  # of code cells: far above any real submission, far below what would slow grading


def _text(source) -> str:
    """A cell's source: one string, or (as nbformat writes it) a list of lines."""
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    if not isinstance(source, str):
        raise ValueError(f"a cell's source is a {type(source).__name__}")
    return source


def notebook_code(data: bytes) -> list[tuple[str, str]]:
    """(label, source) of each code cell of a notebook file (format 4, or 3 with its worksheets), numbered among
    all cells as Jupyter shows them. Plain JSON reading: nbformat's schema validation costs seconds of imports
    and adds nothing here, where only the code cells matter."""
    notebook = json.loads(data.decode("utf-8"))
    if not isinstance(notebook, dict):
        raise ValueError("not a notebook: the JSON is not an object")
    if "cells" in notebook:
        cells, key = notebook["cells"], "source"
    elif isinstance(notebook.get("worksheets"), list) and notebook["worksheets"]:
        cells, key = notebook["worksheets"][0].get("cells"), "input"
    else:
        raise ValueError("not a notebook: it has no cells")
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise ValueError("not a notebook: its cells are not a list of objects")
    return [(f"cell {i}", _text(cell.get(key, ""))) for i, cell in enumerate(cells, 1)
            if cell.get("cell_type") == "code"]


def from_bytes(name: str, data: bytes) -> Code:
    """Definitions of a notebook (name ending in .ipynb: every code cell) or a Python file, from its bytes.
    SubmissionError when it cannot be read or holds more than MAX_CODE_BYTES of code."""
    try:
        cells = notebook_code(data) if name.endswith(".ipynb") else [(name, data.decode("utf-8"))]
    except Exception as err:  # not JSON, not a notebook, not UTF-8: whatever it is, the file is unreadable
        raise SubmissionError(f"cannot read {name}: {type(err).__name__}: {err}".splitlines()[0]) from None
    size = sum(len(source.encode()) for _, source in cells)
    if size > MAX_CODE_BYTES:
        raise SubmissionError(f"{name} holds {size / 2**20:.1f} MB of code; the grader reads at most "
                              f"{MAX_CODE_BYTES / 2**20:g} MB: remove pasted data or generated code from its cells")
    if name.endswith(".ipynb"):
        cells = [(label, _as_python(source)) for label, source in cells]
    return definitions(cells)
