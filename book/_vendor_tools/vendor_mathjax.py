"""Re-vendor MathJax 3 into book/_extra/mathjax, so that the built book typesets math offline.

    python book/_vendor_tools/vendor_mathjax.py              # the pinned version below
    python book/_vendor_tools/vendor_mathjax.py --version 3.2.2

Needs `npm` and access to the npm registry (only when re-vendoring; the book itself never downloads
anything). Keeps only what the book uses: the combined TeX-to-CommonHTML component es5/tex-chtml.js (TeX
input with the AMS extensions, CHTML output, the menu), the CHTML web fonts it loads on demand, and the
Apache-2.0 licence. Sphinx copies book/_extra to the site root (html_extra_path in _config.yml) and every
page loads mathjax/es5/tex-chtml.js from there (mathjax_path). Commit the result.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "3.2.2"
DESTINATION = Path(__file__).resolve().parent.parent / "_extra" / "mathjax"
# Paths inside the npm package that the book needs; the fonts are loaded lazily, so all of them stay.
KEEP = ["LICENSE", "es5/tex-chtml.js", "es5/output/chtml/fonts/woff-v2"]


def vendor(version: str) -> None:
    if shutil.which("npm") is None:
        sys.exit("error: npm is not installed; install Node.js (it ships npm) to re-vendor MathJax")
    with tempfile.TemporaryDirectory() as scratch:
        packed = subprocess.run(["npm", "pack", f"mathjax@{version}", "--silent"], cwd=scratch,
                                capture_output=True, text=True)
        if packed.returncode != 0:
            sys.exit(f"error: npm pack mathjax@{version} failed: {packed.stderr.strip()}")
        with tarfile.open(Path(scratch) / packed.stdout.strip().splitlines()[-1]) as archive:
            # the "data" filter refuses absolute paths and links out of the folder (Python >= 3.10.12)
            archive.extractall(scratch, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        package = Path(scratch) / "package"
        shutil.rmtree(DESTINATION, ignore_errors=True)
        for relative in KEEP:
            source, target = package / relative, DESTINATION / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
    (DESTINATION / "VERSION").write_text(f"mathjax {version} from npm; re-vendor with {Path(__file__).name}\n")
    size = sum(f.stat().st_size for f in DESTINATION.rglob("*") if f.is_file())
    print(f"vendored MathJax {version} into {DESTINATION} ({size / 2**20:.1f} MiB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default=VERSION, help=f"MathJax 3 version on npm (default {VERSION})")
    args = parser.parse_args(argv)
    vendor(args.version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
