"""Build the instructor notebooks exercises/source/<assignment>/<assignment>.ipynb from the reference package.

One source of truth: every answer, helper and given model in a notebook is the source text of the `solutions`
(or `course_utils`) code, copied in with nbgrader's solution markers; only instructions, visible tests and mark
schemes are written in the specs (exercises/builder/<assignment>.py). Edit those or the reference code, never the
notebooks, then rebuild:

    python exercises/build_notebooks.py            # rewrite the notebooks that changed
    python exercises/build_notebooks.py --check    # exit 1 when a committed notebook is out of date
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

EXERCISES = Path(__file__).resolve().parent
sys.path.insert(0, str(EXERCISES))  # so that `builder` imports when this runs as a script

from builder import SPECS  # noqa: E402
from builder.cells import BuildError, NotebookBuilder  # noqa: E402


def render(spec) -> str:
    """The notebook of one spec as the exact text written to disk."""
    notebook = NotebookBuilder(spec.ASSIGNMENT, spec.cells()).build()
    return nbformat.writes(notebook) + "\n"


def notebook_path(assignment: str, source: Path = EXERCISES / "source") -> Path:
    return source / assignment / f"{assignment}.ipynb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a notebook is out of date")
    parser.add_argument("--source", type=Path, default=EXERCISES / "source", help="default: exercises/source")
    args = parser.parse_args(argv)
    stale = []
    for spec in SPECS:
        try:
            text = render(spec)
        except BuildError as err:
            parser.exit(2, f"error: {spec.ASSIGNMENT}: {err}\n")
        path = notebook_path(spec.ASSIGNMENT, args.source)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if args.check and stale:
        names = ", ".join(str(path.relative_to(args.source)) for path in stale)
        print(f"error: out of date: {names}; run `python exercises/build_notebooks.py`", file=sys.stderr)
        return 1
    if not stale:
        print("all notebooks are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
