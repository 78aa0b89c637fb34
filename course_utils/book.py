"""Build the course's Jupyter Book into _build/html, offline: `python -m course_utils.book` (= `make book`).

Runs `jupyter-book build` on the repository root with -W -n --keep-going, so a warning of any kind (a broken
cross-reference, a missing figure, a caption number that book/figures/metrics.json lacks) fails the build
after reporting every problem. Sphinx rebuilds only the pages that changed; --clean starts from scratch.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
# Where jupyter-book keeps Sphinx's pickled pages; deleting it (with html/) forces a full rebuild.
DOCTREES_DIR = BUILD_DIR / ".doctrees"
# Sphinx's record of what it has read. Without it the next build re-reads every page.
ENVIRONMENT = DOCTREES_DIR / "environment.pickle"


class BookBuildError(RuntimeError):
    """The book did not build; the message says why in one line (details are in the output above it)."""


def jupyter_book_command() -> str:
    """The jupyter-book executable of this Python environment (not whichever one is first on PATH)."""
    executable = shutil.which("jupyter-book", path=sysconfig.get_path("scripts"))
    if executable is None:
        raise BookBuildError("jupyter-book is not installed in this environment: run `pip install -e '.[dev]'` "
                             "(or `make book`, which does it)")
    return executable


def build(clean: bool = False, quiet: bool = False) -> Path:
    """Build the book and return the folder with the HTML (its index.html is the entry page).

    Inputs:  clean - delete the previous build first (otherwise only changed pages are rebuilt);
             quiet - show Sphinx's warnings and errors only, not its progress.
    Outputs: HTML_DIR. Raises BookBuildError when the build reports any warning or error.
    """
    if clean:
        shutil.rmtree(HTML_DIR, ignore_errors=True)
        shutil.rmtree(DOCTREES_DIR, ignore_errors=True)
    command = [jupyter_book_command(), "build", str(REPO_ROOT), "-W", "-n", "--keep-going"]
    if quiet:
        command.append("-q")
    result = subprocess.run(command, cwd=REPO_ROOT)
    if result.returncode != 0:
        # Sphinx saved the pages it read, warnings and all; an incremental rebuild would skip them and
        # succeed. Forgetting them makes the next build re-read every page and report the problem again.
        ENVIRONMENT.unlink(missing_ok=True)
        raise BookBuildError(f"the book did not build (jupyter-book exited with {result.returncode}); "
                             "the warnings above name each broken page, reference or figure")
    return HTML_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.book", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", action="store_true", help="delete _build/html first and rebuild every page")
    parser.add_argument("--quiet", action="store_true", help="print only warnings and errors")
    args = parser.parse_args(argv)
    try:
        html = build(clean=args.clean, quiet=args.quiet)
    except BookBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"The book is in {html}: open {(html / 'index.html').as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
