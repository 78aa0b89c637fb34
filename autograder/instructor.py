"""The instructor's nbgrader workflow: release the assignments, autograde the submissions.

    python -m autograder.instructor release     (make release)
        nbgrader generate_assignment for every assignment in exercises/source, then a scan proving that the release
        holds no solution, hidden test, mark scheme or line of solutions/ and autograder/, then the student bundle
        dist/vae-course-student.zip (released notebooks, course_utils with the pretrained model, INSTALL.md,
        requirements.txt), scanned the same way.
    python -m autograder.instructor autograde   (make autograde)
        nbgrader autograde of everything in exercises/submitted/<student>/<assignment>/; then every autograded
        notebook graded again by the isolated grader (python -m autograder), whose points replace the notebook's
        own in the gradebook (the notebook ran the student's code first, so its points can be tampered with;
        every difference is reported); then generate_feedback (exercises/feedback/) and export
        (exercises/grades.csv).

Both run nbgrader from the course folder (--course, default exercises/), so its nbgrader_config.py applies.
Errors are one line, `error: ...`, exit status 2.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.files import atomic_write

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "exercises"
DIST = REPO / "dist"
BUNDLE = "vae-course-student"
SHIPPED_PACKAGE = "course_utils"  # the only code students get besides the notebooks
SECRET_PACKAGES = ("solutions", "autograder")  # not one line of these may reach students
# nbgrader's region markers; none may survive into anything a student gets.
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME",
           "END MARK SCHEME")
REGIONS = (("BEGIN SOLUTION", "END SOLUTION"), ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
           ("BEGIN MARK SCHEME", "END MARK SCHEME"))
# Shorter lines ("return z", "model.eval()") are too common to identify where they came from.
MIN_SECRET_CHARS = 16
STUDENT_EXTRAS = ("jupyterlab",)  # what students need beyond the package's own dependencies
GENERATED = ("INSTALL.md", "requirements.txt", "pyproject.toml")  # the bundle's files written by this module
MISMATCHES = "grading-mismatches.csv"  # per autograde run: cells where the notebook and the isolated grader differ


class InstructorError(Exception):
    """A problem the instructor can fix (one line saying how)."""


# ---------------------------------------------------------------------------------------------------------------
# Running nbgrader


def nbgrader(course: Path, *args: str) -> None:
    """Run `nbgrader ARGS` in the course folder; its log goes to the terminal."""
    env = dict(os.environ)
    # nbgrader runs `alembic` when it creates the gradebook, so this environment's scripts must be on PATH; the
    # grading kernels import this checkout's autograder and course_utils.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO), env.get("PYTHONPATH", "")] if p)
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env)
    if result.returncode != 0:
        raise InstructorError(f"`nbgrader {' '.join(args)}` failed in {course} (exit {result.returncode}); "
                              "its log above says which notebook and why")


def assignments(course: Path) -> list[str]:
    """The assignments of the course: the folders of source/ that hold a notebook."""
    source = course / "source"
    found = sorted(p.name for p in source.glob("*") if p.is_dir() and any(p.glob("*.ipynb")))
    if not (course / "nbgrader_config.py").is_file() or not found:
        raise InstructorError(f"{course} is not the course folder (it needs nbgrader_config.py and "
                              "source/<assignment>/<assignment>.ipynb); pass --course exercises")
    return found


# ---------------------------------------------------------------------------------------------------------------
# The leak scan


def _lines(text: str) -> set[str]:
    """Stripped lines of a text, also where it is embedded in JSON or a serialized program (escaped newlines)."""
    text = text.replace("\\n", "\n").replace('\\"', '"')
    return {line.strip() for line in text.splitlines()}


def _split_regions(source: str) -> tuple[list[str], list[str]]:
    """(lines inside nbgrader regions, lines outside), marker lines excluded."""
    inside, outside, depth = [], [], 0
    for line in source.splitlines():
        if any(begin in line for begin, _ in REGIONS):
            depth += 1
        elif any(end in line for _, end in REGIONS):
            depth -= 1
        else:
            (inside if depth else outside).append(line.strip())
    return inside, outside


def _package_files(package: str) -> list[Path]:
    return sorted(p for p in (REPO / package).rglob("*.py") if "__pycache__" not in p.parts)


@dataclass
class Secrets:
    """Every line a student must not receive, with where it comes from; and every line students may see."""

    origin: dict[str, str] = field(default_factory=dict)
    public: set[str] = field(default_factory=set)
    shipped: set[str] = field(default_factory=set)  # lines of course_utils
    answers: dict[str, set[str]] = field(default_factory=dict)  # "conv_vae/reparameterize" -> its hidden lines

    @classmethod
    def of(cls, course: Path) -> "Secrets":
        secrets = cls()
        for assignment in assignments(course):
            for path in sorted((course / "source" / assignment).glob("*.ipynb")):
                for cell in nbformat.read(path, as_version=4).cells:
                    inside, outside = _split_regions(cell.source)
                    name = f"{assignment}/{cell.metadata.get('nbgrader', {}).get('grade_id', cell.get('id'))}"
                    secrets.answers[name] = {line for line in inside if len(line) >= MIN_SECRET_CHARS}
                    for line in inside:
                        secrets.origin.setdefault(line, f"{name} (hidden in the source notebook)")
                    secrets.public.update(outside)
        for package in SECRET_PACKAGES:  # after the notebooks: an answer is named by its notebook cell
            for path in _package_files(package):
                for line in _lines(path.read_text(encoding="utf-8")):
                    secrets.origin.setdefault(line, str(path.relative_to(REPO)))
        secrets.public |= {"# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE"}
        for path in _package_files(SHIPPED_PACKAGE):
            secrets.shipped |= _lines(path.read_text(encoding="utf-8"))
        secrets.public |= secrets.shipped
        secrets.origin = {line: origin for line, origin in secrets.origin.items()
                          if len(line) >= MIN_SECRET_CHARS and line not in secrets.public}
        return secrets

    def allow(self, text: str) -> None:
        """Declare a text that students get on purpose (the bundle's INSTALL.md, ...): its lines are not leaks."""
        for line in _lines(text):
            self.origin.pop(line, None)

    def answers_already_public(self) -> list[str]:
        """Answers that the shipped course_utils contains (most of their hidden lines are public anyway)."""
        return [name for name, lines in self.answers.items()
                if lines and len(lines & self.shipped) >= len(lines) / 2]


def _texts(path: Path, data: bytes) -> list[tuple[str, str]]:
    """(label, text) pieces of a file to scan: a notebook's sources, outputs and metadata; a zip's members."""
    if path.suffix == ".ipynb":
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        pieces = [(f"{path} metadata", json.dumps(notebook.metadata))]
        for index, cell in enumerate(notebook.cells, 1):
            pieces.append((f"{path} cell {index}", cell.source + "\n" + json.dumps(cell.get("outputs", []))
                           + json.dumps(cell.metadata)))
        return pieces
    if data[:4] == b"PK\x03\x04":  # a zip: the pretrained model, and the .pt2 programs inside it
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [piece for member in archive.namelist() if not member.endswith("/")
                    for piece in _texts(Path(f"{path}!{member}"), archive.read(member))]
    return [(str(path), data.decode("utf-8", errors="replace"))]


def scan(root: Path, secrets: Secrets) -> list[str]:
    """Every leak in the files under root, one line each (empty when clean)."""
    findings = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if relative.parts[0] in SECRET_PACKAGES or "__pycache__" in relative.parts:
            findings.append(f"{relative}: a file of {relative.parts[0]}/ or a compiled file; students get neither")
            continue
        for label, text in _texts(relative, path.read_bytes()):
            for marker in MARKERS:
                if marker in text:
                    findings.append(f"{label}: contains the nbgrader marker {marker!r}")
            if "autograder.check" in text or "import autograder" in text:
                findings.append(f"{label}: mentions the hidden autograder checks")
            for line in sorted(_lines(text) & secrets.origin.keys()):
                findings.append(f"{label}: contains a line of {secrets.origin[line]}: {line[:80]!r}")
    return findings


def check_clean(what: str, root: Path, secrets: Secrets) -> None:
    findings = scan(root, secrets)
    if findings:
        shown = "\n  ".join(findings[:20]) + (f"\n  ... and {len(findings) - 20} more" if len(findings) > 20 else "")
        print(f"leaks in {what}:\n  {shown}", file=sys.stderr)
        raise InstructorError(f"{what} leaks {len(findings)} line(s) of solutions or hidden tests (listed above); "
                              "nothing was shipped")
    print(f"scan: {what} is clean (no markers, no hidden lines, nothing of {' or '.join(SECRET_PACKAGES)})")


# ---------------------------------------------------------------------------------------------------------------
# release


INSTALL = """\
# Variational autoencoders: the student files

Assignment 3 of the Generative AI course. Work through the notebooks in this order:

1. `theory/theory.ipynb` -- four written questions;
2. `conv_vae/conv_vae.ipynb` -- the VAE's loss, a convolutional VAE, training on CIFAR-10;
3. `interpolation/interpolation.ipynb` -- paths through the latent space (no training needed);
4. `new_dataset/new_dataset.ipynb` -- a VAE of CelebA faces and what its latent space encodes.

## Install (once)

Python {python} or newer; no GPU needed (CUDA is used when there is one).

```bash
cd {bundle}
python3 -m venv .venv
source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
pip install -r requirements.txt    # PyTorch, JupyterLab, and course_utils from this folder
jupyter lab
```

On Google Colab (free GPUs: *Runtime, Change runtime type*): put this folder on your Google Drive and mount
it. Colab does not start a notebook in its own folder, so begin each notebook with a cell
`%cd /content/drive/MyDrive/{bundle}/<assignment>` and, once per session, `!pip install -q --no-deps -e ..`
(Colab's own PyTorch is fine). The notebook then finds `course_utils`, keeps the data in `../data` and saves
its models next to itself, on your Drive.

## Data

The notebooks download the datasets into `data/` in this folder (CIFAR-10: 170 MB; CelebA: see
`new_dataset`). Set the environment variable `VAE_DATA_ROOT` to keep them elsewhere.

## Submitting

Each notebook says what to hand in: the notebook itself and, for the training notebooks, the model files it
saves next to it. Do not rename the notebooks, and run each one top to bottom (Restart & Run All) first.
"""


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _student_pyproject(project: dict) -> str:
    """A pyproject.toml that installs course_utils (and its model files) with the course's pinned dependencies."""
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"].get(
        "package-data", {}).get(SHIPPED_PACKAGE, [])
    dependencies = ",\n".join(f"    {json.dumps(d)}" for d in project["dependencies"])
    return (f'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{BUNDLE}"\nversion = "{project["version"]}"\n'
            f'requires-python = "{project["requires-python"]}"\ndependencies = [\n{dependencies},\n]\n\n'
            f'[tool.setuptools.packages.find]\ninclude = ["{SHIPPED_PACKAGE}*"]\n\n'
            f'[tool.setuptools.package-data]\n{SHIPPED_PACKAGE} = {json.dumps(package_data)}\n')


def _check_pretrained() -> None:
    from course_utils.pretrained import AVAILABLE

    missing = [str(path.relative_to(REPO)) for path in AVAILABLE.values() if not path.is_file()]
    if missing:
        raise InstructorError(f"the pretrained model {', '.join(missing)} is missing, and `interpolation` needs it: "
                              "export it first (see course_utils/pretrained)")


def stage_bundle(course: Path, staging: Path) -> Path:
    """Lay out the student bundle under staging/BUNDLE; returns that folder."""
    root = staging / BUNDLE
    shutil.copytree(course / "release", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(REPO / SHIPPED_PACKAGE, root / SHIPPED_PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    project = _project()
    (root / "pyproject.toml").write_text(_student_pyproject(project), encoding="utf-8")
    requirements = ["# pip install -r requirements.txt, from this folder", *project["dependencies"],
                    *STUDENT_EXTRAS, "-e ."]
    (root / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    python = project["requires-python"].lstrip(">=")
    (root / "INSTALL.md").write_text(INSTALL.format(python=python, bundle=BUNDLE), encoding="utf-8")
    return root


def _zip(folder: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, path.relative_to(folder.parent))
    partial.replace(target)  # never leave a half-written bundle behind


def check_sources_current(course: Path) -> None:
    """Refuse to release notebooks that no longer match the reference code (when the course has its builder)."""
    builder = course / "build_notebooks.py"
    if builder.is_file():
        result = subprocess.run([sys.executable, str(builder), "--check"], capture_output=True, text=True)
        if result.returncode != 0:
            raise InstructorError(f"the notebooks in {course / 'source'} are out of date with the reference code: "
                                  f"run `python {builder}` and commit them")


def release(course: Path = COURSE, dist: Path = DIST) -> Path:
    """Generate, scan and bundle every assignment. Returns the bundle's path."""
    names = assignments(course)
    check_sources_current(course)
    _check_pretrained()
    started = time.perf_counter()
    nbgrader(course, "generate_assignment", "*", "--force")
    print(f"generate_assignment: {', '.join(names)} in {time.perf_counter() - started:.1f} s")
    secrets = Secrets.of(course)
    for name in secrets.answers_already_public():
        print(f"note: the answer {name} is public anyway: course_utils, which ships to students, contains it")
    check_clean(f"{course.name}/release", course / "release", secrets)
    with tempfile.TemporaryDirectory() as staging:
        root = stage_bundle(course, Path(staging))
        for generated in GENERATED:
            secrets.allow((root / generated).read_text(encoding="utf-8"))
        check_clean("the student bundle", root, secrets)
        target = dist / f"{BUNDLE}.zip"
        _zip(root, target)
    print(f"student bundle: {target} ({target.stat().st_size / 2**20:.1f} MiB)")
    return target


# ---------------------------------------------------------------------------------------------------------------
# autograde


def submissions(course: Path) -> dict[str, list[str]]:
    """assignment -> students with a submitted notebook of it."""
    found: dict[str, list[str]] = {}
    for notebook in sorted((course / "submitted").glob("*/*/*.ipynb")):
        student, assignment = notebook.parent.parent.name, notebook.parent.name
        if student not in found.setdefault(assignment, []):
            found[assignment].append(student)
    return found


def autograde(course: Path = COURSE) -> Path:
    """Autograde every submission, write the feedback and export the grades. Returns grades.csv's path."""
    from nbgrader.api import Gradebook, MissingEntry

    names = assignments(course)
    found = submissions(course)
    if not found:
        raise InstructorError(f"nothing to grade: {course / 'submitted'} holds no <student>/<assignment>/*.ipynb; "
                              "put the submissions there (nbgrader collect, or by hand)")
    unknown = sorted(set(found) - set(names))
    if unknown:
        raise InstructorError(f"submitted/ has assignments {', '.join(unknown)} that the course does not have "
                              f"({', '.join(names)}): rename or remove those folders")
    database = course / "gradebook.db"
    if not database.is_file():
        raise InstructorError(f"{database} does not exist, so nothing was released from this course folder: "
                              "run `make release` first")
    db_url = f"sqlite:///{database}"
    with Gradebook(db_url) as gradebook:
        for assignment in found:
            try:
                gradebook.find_assignment(assignment)
            except MissingEntry:
                raise InstructorError(f"{assignment} was never released from {course} (it is not in gradebook.db): "
                                      "run `make release` first") from None
    started = time.perf_counter()
    nbgrader(course, "autograde", "*", "--force")
    count = sum(map(len, found.values()))
    elapsed = time.perf_counter() - started
    print(f"autograde: {count} submission(s) in {elapsed:.1f} s ({elapsed / count:.1f} s each)")
    record_isolated_points(course, found)
    nbgrader(course, "generate_feedback", "*", "--force")
    grades = course / "grades.csv"
    nbgrader(course, "export", f"--to={grades}")
    with Gradebook(db_url) as gradebook:
        for assignment, students in found.items():
            for student in students:
                submission = gradebook.find_submission(assignment, student)
                pending = " (manual grading pending)" if submission.needs_manual_grade else ""
                print(f"{assignment:<14} {student:<20} {submission.score:g}/{submission.max_score:g}{pending}")
    print(f"feedback: {course / 'feedback'}; grades: {grades}")
    return grades


def _autograded_notebook(course: Path, student: str, assignment: str) -> Path | None:
    folder = course / "autograded" / student / assignment
    named = folder / f"{assignment}.ipynb"
    return named if named.is_file() else next(iter(sorted(folder.glob("*.ipynb"))), None)


@dataclass
class Mismatch:
    assignment: str
    student: str
    cell: str
    notebook_points: float | None
    isolated_points: float


def record_isolated_points(course: Path, found: dict[str, list[str]], jobs: int | None = None) -> list[Mismatch]:
    """Grade every autograded notebook with the isolated grader and write its points into the gradebook, in place
    of the points the notebook's hidden test cells earned in the student's own kernel. Reports (and returns) each
    cell where the two differ: a sign of tampering, or of a difference between the notebook and the isolated run
    worth a look."""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder import registry, sandbox
    from autograder.cli import grade_paths

    isolation = sandbox.isolation()
    mismatches: list[Mismatch] = []
    started = time.perf_counter()
    graded = 0
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment, students in found.items():
            if assignment not in registry.POINTS:
                continue  # graded by hand only (theory)
            notebooks = {student: path for student in students
                         if (path := _autograded_notebook(course, student, assignment)) is not None}
            reports = grade_paths(assignment, list(notebooks.values()), jobs or os.cpu_count() or 1,
                                  sandbox.DEFAULT_TIMEOUT)
            graded += len(reports)
            for student, path in notebooks.items():
                for check in reports[path].checks:
                    try:
                        grade = gradebook.find_grade(f"test_{check.name}", path.stem, assignment, student)
                    except MissingEntry:
                        raise InstructorError(f"{assignment} has no test cell test_{check.name} in the gradebook: "
                                              "release the notebooks built by `make notebooks`") from None
                    if grade.auto_score != check.points:
                        mismatches.append(Mismatch(assignment, student, grade.name, grade.auto_score, check.points))
                    grade.auto_score = check.points
            gradebook.db.commit()
    print(f"isolated grader: {graded} notebook(s) in {time.perf_counter() - started:.1f} s, isolation "
          f"{isolation.level}; its points are the automatic grades")
    for m in mismatches:
        print(f"mismatch: {m.assignment} {m.student} {m.cell}: the notebook's own run gave {m.notebook_points}, "
              f"the isolated grader {m.isolated_points:g} (recorded); look at this submission for tampering")
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["assignment", "student", "cell", "notebook_points", "isolated_points"])
    writer.writerows([m.assignment, m.student, m.cell, m.notebook_points, m.isolated_points] for m in mismatches)
    atomic_write(course / MISMATCHES, lambda file: file.write(rows.getvalue().encode()))
    return mismatches


# ---------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.instructor", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary in [("release", "generate, scan and bundle every assignment"),
                          ("autograde", "autograde exercises/submitted, then feedback and grades.csv")]:
        command = commands.add_parser(name, help=summary)
        command.add_argument("--course", type=Path, default=COURSE, help="the nbgrader course folder (exercises/)")
        if name == "release":
            command.add_argument("--dist", type=Path, default=DIST, help="where the student zip goes (dist/)")
    args = parser.parse_args(argv)
    course = args.course.resolve()
    try:
        if args.command == "release":
            release(course, args.dist.resolve())
        else:
            autograde(course)
    except InstructorError as err:
        parser.exit(2, f"error: {err}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
