"""A real nbgrader run of the course, in a temporary copy of exercises/.

`make release` (generate_assignment, leak scan, student bundle) once, then three students in one
`make autograde`: alice submits the instructor notebooks (the reference answers) and must get every automatic
point; bob submits the release untouched and must get none; mallory edits and deletes test cells and forges
their points, and nbgrader must restore them; trudy's first answer cell makes IPython skip every cell that
mentions the autograder, which earns her every point of nbgrader's own run, but the isolated grader's points
are what is recorded. Then the feedback and the grade export.

Slow-ish by nature (each notebook runs in a kernel, each hidden check in a sandbox process): about 3-5 minutes
on 2 cores. The fixture prints the time of each step.
"""
from __future__ import annotations

import csv
import shutil
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import instructor
from autograder.registry import POINTS

pytestmark = pytest.mark.xdist_group("nbgrader")  # one worker runs the module: the course is built once

EXERCISES = Path(__file__).resolve().parent.parent / "exercises"
AUTOGRADED = ["conv_vae", "interpolation", "new_dataset"]
ALL = ["theory", *AUTOGRADED]
FORGED_CELL, DELETED_CELL, UNLOCKED_CELL = "test_reparameterize", "test_vae_loss", "test_conv_vae_shapes"
SKIP_GRADING = r"""def _skip_the_autograder(lines):
    return ["pass\n"] if any("autograder" in line for line in lines) else lines


get_ipython().input_transformers_cleanup.append(_skip_the_autograder)
"""


def skip_grading(release: Path, target: Path) -> None:
    """trudy's interpolation: the release, whose first answer cell turns every later cell mentioning the
    autograder (the visible asserts and the hidden checks alike) into `pass`."""
    notebook = nbformat.read(release, as_version=4)
    first_answer = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution"))
    first_answer.source = SKIP_GRADING
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


def forge(release: Path, target: Path) -> None:
    """mallory's conv_vae: the release with a test cell replaced by a score and its points raised, a test cell
    unlocked and emptied, and a test cell deleted."""
    notebook = nbformat.read(release, as_version=4)
    kept = []
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == FORGED_CELL:
            cell.source = "4.0"
            cell.metadata.nbgrader["points"] = 100
        elif grade_id == UNLOCKED_CELL:
            cell.source = 'print("all tests passed")'
            cell.metadata.nbgrader["locked"] = False
        elif grade_id == DELETED_CELL:
            continue
        kept.append(cell)
    notebook.cells = kept
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copy(EXERCISES / "nbgrader_config.py", root)
    shutil.copytree(EXERCISES / "source", root / "source")
    timings = {}
    started = time.perf_counter()
    instructor.release(root, root / "dist")
    timings["release"] = time.perf_counter() - started
    for assignment in ALL:
        for student, folder in (("alice", "source"), ("bob", "release")):
            (root / "submitted" / student / assignment).mkdir(parents=True)
            shutil.copy(root / folder / assignment / f"{assignment}.ipynb", root / "submitted" / student / assignment)
    forge(root / "release" / "conv_vae" / "conv_vae.ipynb", root / "submitted" / "mallory" / "conv_vae" / "conv_vae.ipynb")
    skip_grading(root / "release" / "interpolation" / "interpolation.ipynb",
                 root / "submitted" / "trudy" / "interpolation" / "interpolation.ipynb")
    started = time.perf_counter()
    instructor.autograde(root)
    timings["autograde + isolated grading + feedback + export (10 notebooks)"] = time.perf_counter() - started
    print("nbgrader timings: " + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in timings.items()))
    return root


def grades(course: Path, assignment: str, student: str) -> dict[str, tuple[float | None, float]]:
    """cell name -> (automatic score, max score) of one submission."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(assignment, student)
        return {grade.name: (grade.auto_score, grade.max_score) for notebook in submission.notebooks
                for grade in notebook.grades}


def autograded(course: Path, student: str, assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


def source_cell(assignment: str, grade_id: str):
    notebook = nbformat.read(EXERCISES / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_release_keeps_contracts_and_drops_answers(course):
    for assignment in ALL:
        source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
        release = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
        assert [c.get("id") for c in release.cells] == [c.get("id") for c in source.cells]
        for before, after in zip(source.cells, release.cells):
            meta = before.metadata.get("nbgrader", {})
            if meta.get("solution") and before.cell_type == "code":
                assert "# YOUR CODE HERE" in after.source and "raise NotImplementedError()" in after.source
                assert "BEGIN SOLUTION" not in after.source
                signature = before.source.split("### BEGIN SOLUTION")[0]
                assert after.source.startswith(signature), "the signature and docstring stay visible"
            elif meta.get("solution"):
                assert after.source.endswith("YOUR ANSWER HERE")
            elif meta.get("grade"):
                assert after.source.rstrip() == before.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
            else:
                assert after.source == before.source


def test_student_bundle_holds_the_release_course_utils_and_install_notes(course):
    with zipfile.ZipFile(course / "dist" / "vae-course-student.zip") as bundle:
        names = set(bundle.namelist())
        requirements = bundle.read("vae-course-student/requirements.txt").decode()
    for expected in ["INSTALL.md", "requirements.txt", "pyproject.toml", "course_utils/__init__.py",
                     "course_utils/data.py", "course_utils/pretrained/cifar10_conv_vae.zip",
                     *[f"{a}/{a}.ipynb" for a in ALL]]:
        assert f"vae-course-student/{expected}" in names
    assert not any(part in ("solutions", "autograder", "__pycache__") for name in names for part in name.split("/"))
    assert "torch==" in requirements and "-e ." in requirements.splitlines()


def test_the_reference_answers_earn_every_automatic_point(course):
    for assignment in AUTOGRADED:
        scores = grades(course, assignment, "alice")
        tests = {name: score for name, score in scores.items() if name.startswith("test_")}
        assert sorted(tests) == sorted(f"test_{check}" for check in POINTS[assignment])
        assert all(auto == maximum > 0 for auto, maximum in tests.values()), tests
        manual = {name: score for name, score in scores.items() if not name.startswith("test_")}
        assert manual and all(auto is None for auto, _ in manual.values()), "answers graded by hand wait for a human"


def test_the_untouched_release_earns_nothing(course):
    for assignment in ALL:
        scores = grades(course, assignment, "bob")
        assert scores and all(auto == 0 for auto, _ in scores.values()), scores


def test_edited_and_deleted_test_cells_are_restored_and_forge_nothing(course):
    scores = grades(course, "conv_vae", "mallory")
    assert all(auto == 0 for auto, _ in scores.values()), scores
    assert scores[FORGED_CELL][1] == POINTS["conv_vae"]["reparameterize"], "the forged points are reset"
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in autograded(course, "mallory", "conv_vae").cells}
    for grade_id in (FORGED_CELL, UNLOCKED_CELL, DELETED_CELL):
        visible = source_cell("conv_vae", grade_id).source.split("### BEGIN HIDDEN TESTS")[0].strip()
        assert visible in cells[grade_id].source, f"{grade_id} was not restored"
        assert "autograder.check" in cells[grade_id].source, f"{grade_id} runs its hidden check"


def test_the_isolated_graders_points_stand_against_a_notebook_that_skips_its_checks(course):
    """trudy's kernel ran no check at all, so nbgrader gave every test cell full marks; the isolated grader, which
    never runs her kernel's transformations, gave her nothing, and that is what the gradebook and grades.csv hold."""
    scores = grades(course, "interpolation", "trudy")
    tests = {name: auto for name, (auto, _) in scores.items() if name.startswith("test_")}
    assert tests == {f"test_{check}": 0.0 for check in POINTS["interpolation"]}
    with open(course / instructor.MISMATCHES, newline="") as file:
        mismatches = {(row["student"], row["cell"]): row for row in csv.DictReader(file)}
    assert {cell for student, cell in mismatches if student == "trudy"} == set(tests)
    assert all(float(mismatches[("trudy", cell)]["notebook_points"]) == POINTS["interpolation"][cell[5:]]
               and float(mismatches[("trudy", cell)]["isolated_points"]) == 0 for cell in tests)
    assert not [key for key in mismatches if key[0] != "trudy"], "honest submissions grade the same both ways"


def test_feedback_shows_results_but_no_hidden_test_code(course):
    reports = sorted((course / "feedback").glob("*/*/*.html"))
    assert len(reports) == 2 * len(ALL) + 2
    for report in reports:
        html = report.read_text(encoding="utf-8")
        for hidden in ("autograder.check", "import autograder", "BEGIN HIDDEN TESTS", "MARK SCHEME"):
            if report.parts[-3] == "alice" and hidden == "MARK SCHEME":
                continue  # alice handed in the instructor notebook, mark schemes included: her own text
            assert hidden not in html, f"{report}: {hidden}"
    alice = (course / "feedback" / "alice" / "conv_vae" / "conv_vae.html").read_text(encoding="utf-8")
    assert f"reparameterize: {POINTS['conv_vae']['reparameterize']:g}/" in alice, "the hidden check's message"


def test_grades_are_exported_per_student_and_assignment(course):
    with open(course / "grades.csv", newline="") as file:
        rows = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(file)}
    assert set(rows) == {(a, s) for a in ALL for s in ("alice", "bob", "mallory", "trudy")}  # missing ones score 0
    assert float(rows[("conv_vae", "alice")]["raw_score"]) == sum(POINTS["conv_vae"].values())
    assert float(rows[("conv_vae", "mallory")]["raw_score"]) == 0
    assert float(rows[("interpolation", "trudy")]["raw_score"]) == 0
