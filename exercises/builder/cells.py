"""The cells of an instructor notebook, and how reference code gets into them.

A notebook spec (theory.py, conv_vae.py, ...) is a list of the cell kinds below. Text (instructions, visible
tests, mark schemes) is written in the spec; code that answers an exercise is never written there: `Answer`,
`Given` and `Paste` name objects of the reference package and the builder copies their source text, found with
`ast` in the module that defines them, into the cell. Whatever that code needs is pulled in too:

- a definition from `solutions.*` that it calls (a helper, a constant, an exception) is copied into a read-only
  "helpers" cell just before it, or, when the spec lists it in `hide`, into the answer's solution region;
- a name it imports from anywhere else (torch, course_utils, typing) becomes an import line of the
  notebook's `Setup` cell, so the setup cell always imports exactly what the embedded code uses.

nbgrader markers: an answer keeps its signature and docstring and has its body between BEGIN/END SOLUTION
(each method of a class separately), so a student sees the contract and `raise NotImplementedError()`.
A test cell is visible asserts followed by a hidden `autograder.check(...)` call worth
`autograder.max_points(...)` points; the hidden test code itself lives in autograder/, not in the notebook.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import sys
import textwrap
from dataclasses import dataclass, field

import nbformat

from autograder.registry import max_points

EMBEDDED_PACKAGE = "solutions"  # reference code is copied into notebooks; everything else is imported
MARK_SCHEME = "=== BEGIN MARK SCHEME ===\n{}\n=== END MARK SCHEME ==="
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class BuildError(Exception):
    """A spec that cannot become a consistent notebook (one-line message saying what to fix)."""


# ---------------------------------------------------------------------------------------------------------------
# The cell kinds a spec lists


@dataclass
class Markdown:
    """Read-only instructions."""

    text: str
    name: str | None = None


@dataclass
class Setup:
    """The first code cell: the embedded code's imports merged with `imports`, then `code`."""

    imports: str
    code: str


@dataclass
class Given:
    """Read-only code: the source of the reference objects in `embed` (and what they need), then `code`."""

    name: str
    code: str = ""
    embed: tuple = ()
    intro: str = ""


@dataclass
class Editable:
    """An ordinary code cell, neither graded nor restored: for optional code of the student's."""

    name: str
    code: str


@dataclass
class Answer:
    """A student writes this reference function or class. Its body (each method's body) is the solution region.

    hide: names of helpers that belong to the answer; they are copied into the solution region with it, which
    then covers the whole cell (the contract must then be stated in the Markdown above).
    """

    obj: object
    hide: tuple[str, ...] = ()
    intro: str = ""


@dataclass
class Paste:
    """A student pastes earlier answers; the solution region is the reference code of `objs`."""

    name: str
    objs: tuple
    intro: str


@dataclass
class Test:
    """Visible asserts, then the hidden autograder check `check` of this assignment."""

    check: str
    visible: str


@dataclass
class Manual:
    """A manually graded answer: Markdown (`code=False`) or a code cell, with a model answer and a mark scheme."""

    name: str
    points: float
    answer: str
    mark_scheme: str
    code: bool = False
    intro: str = ""


# ---------------------------------------------------------------------------------------------------------------
# Finding reference code and what it needs


@dataclass(frozen=True)
class Key:
    """A top-level definition: module and name."""

    module: str
    name: str


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [target.id for target in node.targets if isinstance(target, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


class ModuleIndex:
    """The top-level definitions and imports of one module, read from its source with ast."""

    def __init__(self, module_name: str):
        module = importlib.import_module(module_name)
        self.name = module_name
        self.source = inspect.getsource(module)
        self.lines = self.source.splitlines()
        self.definitions: dict[str, ast.stmt] = {}
        self.imports: dict[str, tuple] = {}  # bound name -> ("from", module, name, asname) | ("import", module, asname)
        for node in ast.parse(self.source).body:
            for name in _bound_names(node):
                self.definitions[name] = node
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    self.imports[bound] = ("import", alias.name, alias.asname)
            elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
                if node.level:
                    raise BuildError(f"{module_name}: relative imports cannot be followed; import absolutely")
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = ("from", node.module, alias.name, alias.asname)

    def node(self, name: str) -> ast.stmt:
        if name not in self.definitions:
            raise BuildError(f"{self.name} defines no top-level {name!r}")
        return self.definitions[name]

    def first_line(self, node: ast.stmt) -> int:
        """1-based first line of a definition: its decorators and the comment lines directly above it."""
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        while start > 1 and self.lines[start - 2].lstrip().startswith("#"):
            start -= 1
        return start

    def text(self, name: str) -> list[str]:
        node = self.node(name)
        return self.lines[self.first_line(node) - 1:node.end_lineno]

    def uses(self, name: str) -> set[str]:
        """Global names a definition reads (approximate: locals that shadow a global count as uses too)."""
        return {n.id for n in ast.walk(self.node(name)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


_INDEXES: dict[str, ModuleIndex] = {}


def index(module_name: str) -> ModuleIndex:
    if module_name not in _INDEXES:
        _INDEXES[module_name] = ModuleIndex(module_name)
    return _INDEXES[module_name]


def key_of(obj) -> Key:
    return Key(obj.__module__, obj.__name__)


def _embedded(key: Key, hidden: set[Key]) -> bool:
    return key.module.split(".")[0] == EMBEDDED_PACKAGE or key in hidden


def dependencies(key: Key) -> tuple[list[Key], list[tuple]]:
    """What a definition needs: other definitions (same module, or imported from another module) and imports."""
    module = index(key.module)
    definitions, imports = [], []
    for name in sorted(module.uses(key.name) - {key.name}):
        if name in module.definitions:
            definitions.append(Key(key.module, name))
        elif name in module.imports:
            statement = module.imports[name]
            if statement[0] == "from" and statement[3] is None and _is_module_attr(statement[1], statement[2]):
                definitions.append(Key(statement[1], statement[2]))
            else:
                imports.append(statement)
        # anything else is a builtin, a parameter or a local variable
    return definitions, imports


def _is_module_attr(module_name: str, name: str) -> bool:
    """True when `from module_name import name` takes a definition (not a submodule) from a module we can read."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    return not inspect.ismodule(getattr(module, name, None)) and module_name.split(".")[0] in (EMBEDDED_PACKAGE, "course_utils")


def _line_order(key: Key) -> tuple[str, int]:
    return key.module, index(key.module).node(key.name).lineno


# ---------------------------------------------------------------------------------------------------------------
# Solution regions


def _regions(node: ast.stmt) -> list[tuple[int, int, int]]:
    """(first line, last line, indent) of each body to hide: a function's body after its docstring; for a class,
    every method's body. 1-based, relative to the module."""
    if isinstance(node, ast.ClassDef):
        return [region for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                for region in _regions(item)]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise BuildError(f"only functions and classes can be answers, not line {node.lineno}")
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        start, body = body[0].end_lineno + 1, body[1:]
    else:
        start = node.body[0].lineno
        # A body on the signature's last line (`def f(): return 1`) cannot be split.
        if start == node.lineno:
            raise BuildError(f"{node.name}: put the body on its own lines so it can become a solution region")
    if not body:
        raise BuildError(f"{node.name} has only a docstring: nothing to hide")
    return [(start, node.end_lineno, body[0].col_offset)]


def solution(lines: list[str], indent: int = 0) -> list[str]:
    pad = " " * indent
    return [pad + "### BEGIN SOLUTION", *lines, pad + "### END SOLUTION"]


def with_solution_regions(key: Key) -> list[str]:
    """The definition's text with its bodies wrapped in BEGIN/END SOLUTION."""
    module = index(key.module)
    node = module.node(key.name)
    first = module.first_line(node)
    out, line = [], first
    for start, end, indent in _regions(node):
        out += module.lines[line - 1:start - 1]
        out += solution(module.lines[start - 1:end], indent)
        line = end + 1
    return out + module.lines[line - 1:node.end_lineno]


# ---------------------------------------------------------------------------------------------------------------
# Imports of the setup cell


def _parse_imports(text: str) -> list[tuple]:
    statements = []
    for node in ast.parse(text).body:
        if isinstance(node, ast.Import):
            statements += [("import", alias.name, alias.asname) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            statements += [("from", node.module, alias.name, alias.asname) for alias in node.names]
        else:
            raise BuildError(f"Setup.imports may hold import statements only, found: {ast.unparse(node)}")
    return statements


def _section(module_name: str) -> int:
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names:
        return 0
    return 2 if top == "course_utils" else 1


def render_imports(statements: set[tuple]) -> str:
    """isort-like: standard library, third party, course_utils; `import x` lines before `from x import y`."""
    sections: list[list[str]] = [[], [], []]
    plain = sorted(s for s in statements if s[0] == "import")
    for _, module_name, asname in plain:
        sections[_section(module_name)].append(f"import {module_name}" + (f" as {asname}" if asname else ""))
    by_module: dict[str, list[str]] = {}
    for _, module_name, name, asname in (s for s in statements if s[0] == "from"):
        by_module.setdefault(module_name, []).append(name + (f" as {asname}" if asname else ""))
    for module_name in sorted(by_module):
        names = ", ".join(sorted(set(by_module[module_name]), key=str.lower))
        sections[_section(module_name)].append(f"from {module_name} import {names}")
    return "\n\n".join("\n".join(section) for section in sections if section)


# ---------------------------------------------------------------------------------------------------------------
# Assembling a notebook


def _metadata(grade_id: str, *, locked: bool = False, solution: bool = False, grade: bool = False,
              points: float | None = None) -> dict:
    nbgrader = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                "solution": solution, "task": False}
    if grade:
        nbgrader["points"] = points
    return {"nbgrader": nbgrader}


@dataclass
class NotebookBuilder:
    """Turns a spec into cells, tracking which definitions the notebook already holds."""

    assignment: str
    items: list
    cells: list = field(default_factory=list)
    defined: dict[str, tuple[Key, bool]] = field(default_factory=dict)  # name -> (key, visible to later code)
    imports: set = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)

    def build(self) -> nbformat.NotebookNode:
        answers = {key_of(item.obj).name for item in self.items if isinstance(item, Answer)}
        answers |= {key_of(obj).name for item in self.items if isinstance(item, Paste) for obj in item.objs}
        self.answers = answers
        setup_index = None
        for item in self.items:
            if isinstance(item, Setup):
                setup_index = len(self.cells)
                self.cells.append(None)  # filled in last, once every import is known
                setup = item
            else:
                getattr(self, "_add_" + type(item).__name__.lower())(item)
        if setup_index is None:
            if self.imports:
                raise BuildError(f"{self.assignment}: embedded code needs imports but the spec has no Setup cell")
        else:
            self.imports |= set(_parse_imports(setup.imports))
            source = render_imports(self.imports) + ("\n\n" + setup.code.strip() if setup.code.strip() else "")
            self.cells[setup_index] = self._code(source, _metadata("setup", locked=True))
        notebook = nbformat.v4.new_notebook(cells=self.cells)
        notebook.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
        nbformat.validate(notebook)
        return notebook

    # -- helpers -------------------------------------------------------------------------------------------------

    def _auto_id(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}_{self.counters[prefix]:02d}"

    @staticmethod
    def _code(source: str, metadata: dict):
        return nbformat.v4.new_code_cell(source.strip("\n"), metadata=metadata, id=metadata["nbgrader"]["grade_id"])

    @staticmethod
    def _markdown(source: str, metadata: dict):
        return nbformat.v4.new_markdown_cell(source.strip("\n"), metadata=metadata,
                                             id=metadata["nbgrader"]["grade_id"])

    def _closure(self, roots: list[Key], hidden: set[Key], user: str, visible: bool) -> list[Key]:
        """The definitions `roots` need that the notebook does not hold yet, dependencies first; collects imports.

        Raises BuildError when visible (given) code would need a definition that only a solution region holds, or
        an answer that the notebook asks for later.
        """
        order, seen = [], set()

        def visit(key: Key) -> None:
            if key in seen:
                return
            seen.add(key)
            if key.name in self.defined:
                held, held_visible = self.defined[key.name]
                if held != key:
                    raise BuildError(f"{user}: the notebook already defines {key.name} from {held.module}, "
                                     f"and {key.module}.{key.name} needs another {key.name}; rename one of them")
                if visible and not held_visible:
                    raise BuildError(f"{user}: read-only code needs {key.name}, which only a solution region "
                                     "defines; move it out of `hide`")
                return
            if key not in roots and key.name in self.answers:
                raise BuildError(f"{user} needs {key.name}, an answer asked for later: reorder the spec")
            definitions, imports = dependencies(key)
            for statement in imports:
                self.imports.add(statement)
            for dependency in sorted(definitions, key=_line_order):
                if _embedded(dependency, hidden):
                    visit(dependency)
                else:
                    self.imports.add(("from", dependency.module, dependency.name, None))
            order.append(key)

        for root in roots:
            visit(root)
        return order

    def _define(self, keys: list[Key], visible: bool) -> None:
        for key in keys:
            self.defined[key.name] = (key, visible)

    def _text(self, keys: list[Key]) -> str:
        return "\n\n\n".join("\n".join(index(key.module).text(key.name)) for key in keys)

    def _helpers_cell(self, keys: list[Key], user: str) -> None:
        if not keys:
            return
        names = ", ".join(key.name for key in keys)
        header = (f"# Helpers (given, read-only) used by {user}: {names}.\n"
                  "# They come from the course's reference code; call them from your answers if you like.")
        self.cells.append(self._code(header + "\n\n" + self._text(keys), _metadata(f"helpers_{user}", locked=True)))
        self._define(keys, visible=True)

    # -- one method per cell kind --------------------------------------------------------------------------------

    def _add_markdown(self, item: Markdown) -> None:
        grade_id = item.name or self._auto_id("md")
        self.cells.append(self._markdown(textwrap.dedent(item.text), _metadata(grade_id, locked=True)))

    def _add_given(self, item: Given) -> None:
        keys = [key_of(obj) for obj in item.embed]
        needed = self._closure(keys, set(), item.name, visible=True)
        parts = [textwrap.dedent(item.intro).strip(), self._text(needed), textwrap.dedent(item.code).strip()]
        source = "\n\n\n".join(p for p in parts if p)  # two blank lines between definitions and code
        self.cells.append(self._code(source, _metadata(item.name, locked=True)))
        self._define(needed, visible=True)

    def _add_editable(self, item: Editable) -> None:
        source = textwrap.dedent(item.code).strip("\n")
        self.cells.append(nbformat.v4.new_code_cell(source, id=item.name))

    def _add_answer(self, item: Answer) -> None:
        key = key_of(item.obj)
        hidden = {Key(key.module, name) for name in item.hide}
        needed = self._closure([key], hidden, key.name, visible=False)
        secret = [k for k in needed if k in hidden]
        given = [k for k in needed if k not in hidden and k != key]
        self._helpers_cell(given, key.name)
        intro = textwrap.dedent(item.intro).strip()
        if secret:
            body = solution(self._text(secret + [key]).splitlines())
        else:
            body = with_solution_regions(key)
        source = (intro + "\n" if intro else "") + "\n".join(body)
        self.cells.append(self._code(source, _metadata(key.name, solution=True)))
        self._define(secret, visible=False)
        self._define([key], visible=True)  # the student writes it, so later code may call it

    def _add_paste(self, item: Paste) -> None:
        keys = [key_of(obj) for obj in item.objs]
        needed = self._closure(keys, set(keys), item.name, visible=False)
        missing = [key.name for key in needed if key not in keys]
        if missing:
            raise BuildError(f"{item.name}: the pasted code also needs {', '.join(missing)}; list it in Paste.objs")
        source = textwrap.dedent(item.intro).strip() + "\n" + "\n".join(solution(self._text(needed).splitlines()))
        self.cells.append(self._code(source, _metadata(item.name, solution=True)))
        self._define(needed, visible=True)

    def _add_test(self, item: Test) -> None:
        points = max_points(self.assignment, item.check)
        hidden = ["### BEGIN HIDDEN TESTS",
                  "import autograder",
                  f'autograder.check("{self.assignment}", "{item.check}", globals(), points={points:g})',
                  "### END HIDDEN TESTS"]
        source = textwrap.dedent(item.visible).strip() + "\n\n" + "\n".join(hidden)
        self.cells.append(self._code(source, _metadata(f"test_{item.check}", locked=True, grade=True, points=points)))

    def _add_manual(self, item: Manual) -> None:
        intro = textwrap.dedent(item.intro).strip()
        answer, scheme = textwrap.dedent(item.answer).strip(), textwrap.dedent(item.mark_scheme).strip()
        metadata = _metadata(item.name, solution=True, grade=True, points=item.points)
        if item.code:
            commented = "\n".join(("# " + line).rstrip() for line in MARK_SCHEME.format(scheme).splitlines())
            lines = solution((commented + "\n" + answer).splitlines())
            self.cells.append(self._code((intro + "\n" if intro else "") + "\n".join(lines), metadata))
        else:
            lines = solution((answer + "\n\n" + MARK_SCHEME.format(scheme)).splitlines())
            self.cells.append(self._markdown((intro + "\n\n" if intro else "") + "\n".join(lines), metadata))
