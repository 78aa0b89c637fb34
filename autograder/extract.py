"""Which code of a submission gets graded: its top-level definitions, nothing else.

A notebook downloads data, trains and plots; grading needs none of that (and has no data). So from each code
cell (or a .py file, or IPython's input history) we keep the top-level statements that define something --
imports, def, class, assignments of constants -- and drop the rest: calls, loops, training, plotting, magics,
`if __name__ == "__main__":` blocks. Cells that call `autograder.check` (nbgrader's hidden test cells) are left
out. The sandbox later executes the kept statements one by one (autograder/worker.py).
"""
from __future__ import annotations

import ast
import inspect
import types
from dataclasses import dataclass, field
from pathlib import Path

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


def from_file(path: str | Path) -> Code:
    """Definitions of a notebook (.ipynb: every code cell) or a Python file (.py)."""
    path = Path(path)
    try:
        if path.suffix == ".ipynb":
            import nbformat

            notebook = nbformat.read(path, as_version=4)
            cells = [(f"cell {i}", cell.source) for i, cell in enumerate(notebook.cells, 1)
                     if cell.cell_type == "code"]
            return definitions([(label, _as_python(source)) for label, source in cells])
        return definitions([(path.name, path.read_text(encoding="utf-8"))])
    except Exception as err:  # not JSON, not a notebook, not UTF-8: whatever it is, the file is unreadable
        raise SubmissionError(f"cannot read {path.name}: {type(err).__name__}: {err}".splitlines()[0]) from None


def from_namespace(namespace: dict) -> Code:
    """Definitions of a running kernel: IPython's input history `In` when present (the cells as executed).

    Without `In` (plain Python), rebuild the source from the namespace's objects: its modules become imports,
    its functions and classes their source code, and plain constants their repr.
    """
    history = namespace.get("In")
    if isinstance(history, list) and all(isinstance(s, str) for s in history):
        return definitions([(f"In[{i}]", source) for i, source in enumerate(history)])
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
    code = definitions([("namespace", "\n".join(lines))])
    code.notes += notes
    return code
