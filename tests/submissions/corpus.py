"""The corpus of submissions the autograder tests and benchmarks grade.

    <assignment>/correct/*.py   complete submissions written differently from the reference: full marks
    <assignment>/wrong/*.py     one typical mistake each
    <assignment>/hostile/*.py   code that attacks the grader (endless loops, exits, crashes, forged output, ...)

plus two references: the solutions' source as a .py file, and the instructor's notebook (exercises/source).

Files in wrong/ and hostile/ hold only what differs from the reference: the graded file is the reference
solution followed by them (later definitions win), so each carries exactly its one mistake. Their docstrings say
what grading must report, one line per failing check (CHECK may be `all`); every other check must pass:

    fails CHECK: a fragment of the teaching message

Build the graded files:   python tests/submissions/corpus.py OUT_DIR   ->   OUT_DIR/<assignment>/<kind>-<name>.py
"""
from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parents[1]
ASSIGNMENTS = ("conv_vae", "interpolation", "new_dataset")
KINDS = ("correct", "wrong", "hostile")
# The reference of each assignment, as the modules whose source makes up a reference submission.
REFERENCE_MODULES = {
    "conv_vae": ["solutions.vae"],
    "interpolation": ["solutions.interpolate"],
    "new_dataset": ["course_utils.data", "solutions.vae", "solutions.interpolate", "solutions.explore"],
}


def reference_source(assignment: str) -> str:
    """A submission made of the reference modules' source (their imports of each other dropped: a submission
    cannot import the reference)."""
    parts = []
    for name in REFERENCE_MODULES[assignment]:
        lines = inspect.getsource(importlib.import_module(name)).splitlines()
        parts.append("\n".join(line for line in lines if not line.startswith("from solutions")))
    return "\n\n".join(parts) + "\n"


def expectations(path: Path) -> dict[str, str]:
    """{check (or "all"): message fragment} from the file's docstring `fails CHECK: fragment` lines."""
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    found = {}
    for line in docstring.splitlines():
        if line.startswith("fails "):
            check, fragment = line[len("fails "):].split(":", 1)
            found[check.strip()] = fragment.strip()
    return found


def sources(assignment: str, kind: str) -> list[Path]:
    return sorted((ROOT / assignment / kind).glob("*.py"))


def padding(text: str) -> str:
    """Trivial functions up to the file's `PAD_TO_BYTES = N` (hostile files that are large by design), or ''."""
    sizes = [node.value.value for node in ast.parse(text).body if isinstance(node, ast.Assign)
             and [getattr(t, "id", None) for t in node.targets] == ["PAD_TO_BYTES"]
             and isinstance(node.value, ast.Constant)]
    if not sizes:
        return ""
    function = "def trivial_{:08d}():\n    return {:d}\n\n\n"
    count = sizes[0] // len(function.format(0, 0)) + 1
    return "".join(function.format(i, i) for i in range(count))


def graded_text(assignment: str, kind: str, path: Path) -> str:
    """What gets graded for a corpus file: itself (correct/) or the reference followed by it."""
    if kind == "correct":
        return path.read_text()
    text = path.read_text()
    return reference_source(assignment) + f"\n\n# ---- {kind}/{path.name}\n" + text + padding(text)


def build(out_dir: Path, assignment: str, kinds=KINDS) -> dict[Path, tuple[str, Path]]:
    """Write the graded files of an assignment into out_dir; {graded file: (kind, corpus file)}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    for kind in kinds:
        for path in sources(assignment, kind):
            graded = out_dir / f"{kind}-{path.name}"
            graded.write_text(graded_text(assignment, kind, path))
            built[graded] = (kind, path)
    reference = out_dir / "reference.py"
    reference.write_text(reference_source(assignment))
    built[reference] = ("reference", reference)
    notebook = reference_notebook(assignment)
    if notebook.exists():
        graded = out_dir / "reference-notebook.ipynb"
        graded.write_bytes(notebook.read_bytes())
        built[graded] = ("reference", notebook)
    return built


def reference_notebook(assignment: str) -> Path:
    """The instructor's notebook of the assignment (nbgrader source version, with the solutions)."""
    return REPO / "exercises" / "source" / assignment / f"{assignment}.ipynb"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/submissions/corpus.py OUT_DIR")
    for assignment in ASSIGNMENTS:
        files = build(Path(sys.argv[1]) / assignment, assignment)
        print(f"{assignment}: {len(files)} submissions in {Path(sys.argv[1]) / assignment}")
