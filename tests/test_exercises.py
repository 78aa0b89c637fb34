"""The nbgrader course in exercises/: notebooks built from the reference code, their grading structure, the leak
scan and the instructor workflow's errors. Fast: no kernel runs here (tests/test_nbgrader.py runs nbgrader)."""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import inspect
import json
import re
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from autograder import instructor
from autograder.registry import POINTS, total_points

REPO = Path(__file__).resolve().parent.parent
EXERCISES = REPO / "exercises"
ASSIGNMENTS = ("theory", "conv_vae", "interpolation", "new_dataset")
HIDDEN_CALL = re.compile(r'autograder\.check\("(\w+)", "(\w+)", globals\(\), points=([\d.]+)\)')


def notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(EXERCISES / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)


def build_notebooks():
    """exercises/build_notebooks.py as a module (in this process: torch is imported once)."""
    spec = importlib.util.spec_from_file_location("build_notebooks", EXERCISES / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_notebooks_are_built_from_the_current_reference_code(capsys):
    assert build_notebooks().main(["--check"]) == 0, capsys.readouterr().err


def test_check_mode_reports_a_stale_notebook(tmp_path, capsys):
    shutil.copytree(EXERCISES / "source", tmp_path / "source")
    stale = tmp_path / "source" / "conv_vae" / "conv_vae.ipynb"
    stale.write_text(stale.read_text().replace("reparameterize", "reparametrise"))
    assert build_notebooks().main(["--check", "--source", str(tmp_path / "source")]) == 1
    assert "out of date: conv_vae/conv_vae.ipynb" in capsys.readouterr().err
    assert "reparametrise" in stale.read_text(), "--check must not rewrite anything"


@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS if a in POINTS])
def test_every_hidden_check_is_one_test_cell_worth_its_registry_points(assignment):
    calls = []
    for cell in notebook(assignment).cells:
        meta = nbgrader_meta(cell)
        for found in HIDDEN_CALL.finditer(cell.source):
            assert found.group(1) == assignment
            assert meta.get("grade") and meta.get("locked") and not meta.get("solution"), \
                f"{meta.get('grade_id')}: a hidden check belongs in a locked, graded test cell"
            assert float(found.group(3)) == meta["points"] == POINTS[assignment][found.group(2)]
            hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            assert hidden.strip().splitlines() == ["import autograder", found.group(0)], \
                "the hidden region holds only the check call: the test code lives in autograder/"
            calls.append(found.group(2))
    assert calls == list(POINTS[assignment]), "each registry check once, in the registry's order"
    assert sum(nbgrader_meta(c).get("points", 0) for c in notebook(assignment).cells
               if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")) == total_points(assignment)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_cells_carry_consistent_nbgrader_metadata(assignment):
    cells = notebook(assignment).cells
    ids = [nbgrader_meta(c)["grade_id"] for c in cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), "grade ids are unique"
    for cell in cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, meta["grade_id"]
            assert not meta["locked"], f"{meta['grade_id']}: students must be able to edit answers"
        if meta.get("solution") and meta.get("grade"):  # graded by hand
            region = cell.source.split("### BEGIN SOLUTION")[1]
            assert "=== BEGIN MARK SCHEME ===" in region and "=== END MARK SCHEME ===" in region, meta["grade_id"]
            scheme = region.split("=== BEGIN MARK SCHEME ===")[1].split("=== END MARK SCHEME ===")[0]
            assert len(scheme.split()) >= 60, f"{meta['grade_id']}: a mark scheme says what earns each point"
            assert meta["points"] > 0
        if not meta.get("solution") and cell.cell_type == "code" and meta:
            assert meta["locked"], f"{meta['grade_id']}: given code and tests are read-only"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_theory_and_discussions_are_graded_by_hand(assignment):
    manual = [c for c in notebook(assignment).cells if nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade")]
    assert manual, "every assignment has work graded by hand"
    if assignment == "theory":
        assert [nbgrader_meta(c)["grade_id"] for c in manual] == ["q1_answer", "q2_answer", "q3_answer", "q4_answer"]
        assert all(c.cell_type == "markdown" for c in manual)


def _reference_objects():
    from course_utils.data import celeba_transform
    from solutions.explore import attribute_direction, most_active_dims, sample_near, sample_prior, traverse
    from solutions.interpolate import interpolate, latent_path, lerp, slerp
    from solutions.vae import ConvVAE, FCVAE, kl_divergence, reparameterize, train_vae, vae_loss

    return {"conv_vae": [reparameterize, kl_divergence, vae_loss, ConvVAE, train_vae, FCVAE],
            "interpolation": [lerp, slerp, interpolate, latent_path],
            "new_dataset": [celeba_transform, sample_prior, sample_near, traverse, attribute_direction,
                            most_active_dims, ConvVAE, train_vae]}


@pytest.mark.parametrize("assignment", ["conv_vae", "interpolation", "new_dataset"])
def test_answers_and_given_code_are_the_reference_code_verbatim(assignment):
    text = "\n".join(without_markers(c.source) for c in notebook(assignment).cells if c.cell_type == "code")
    for obj in _reference_objects()[assignment]:
        assert inspect.getsource(obj).strip() in text, f"{obj.__qualname__} differs from the reference package"


@pytest.mark.parametrize("assignment", ["conv_vae", "interpolation", "new_dataset"])
def test_notebooks_import_only_what_the_student_bundle_installs(assignment):
    distributions = importlib.metadata.packages_distributions()
    allowed = {re.split(r"[=<>\[ ]", requirement)[0].lower() for requirement in instructor._project()["dependencies"]}
    for cell in notebook(assignment).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(without_markers(re.sub(r"### (BEGIN|END) HIDDEN TESTS", "", cell.source)))):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) else []
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "course_utils" or top == "autograder":
                    continue  # autograder: the hidden check, removed from the release
                assert {d.lower() for d in distributions.get(top, [])} & allowed, \
                    f"{assignment} imports {module}, which the student bundle's requirements do not install"


def test_visible_tests_state_their_purpose():
    for assignment in ("conv_vae", "interpolation", "new_dataset"):
        for cell in notebook(assignment).cells:
            if nbgrader_meta(cell).get("grade") and not nbgrader_meta(cell).get("solution"):
                visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
                asserts = [n for n in ast.walk(ast.parse(visible)) if isinstance(n, ast.Assert)]
                assert asserts and all(a.msg is not None for a in asserts), \
                    f"{nbgrader_meta(cell)['grade_id']}: every visible assert says what to fix"


# ---------------------------------------------------------------------------------------------------------------
# The leak scan


@pytest.fixture(scope="module")
def secrets():
    return instructor.Secrets.of(EXERCISES)


def test_scan_finds_solution_lines_markers_and_secret_packages(tmp_path, secrets):
    kl_line = "return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)"
    assert kl_line in secrets.origin
    (tmp_path / "notes.py").write_text(f"def kl(mu, logvar):\n    {kl_line}\n")
    leaky = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")])
    nbformat.write(leaky, tmp_path / "leaky.ipynb")
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "vae.py").write_text("")
    # a serialized program's stack trace: the line sits inside a JSON string with escaped newlines
    trace = {"stack_trace": f'File "vae.py", line 9, in forward\n    {kl_line}\n'}
    (tmp_path / "model.json").write_text(json.dumps(trace))
    findings = instructor.scan(tmp_path, secrets)
    assert any(f.startswith("notes.py") and "kl_divergence" in f for f in findings)
    assert any(f.startswith("model.json") and "kl_divergence" in f for f in findings)
    assert any(f.startswith("leaky.ipynb") and "BEGIN SOLUTION" in f for f in findings)
    assert any(f.startswith("solutions/vae.py") for f in findings)


def test_scan_passes_what_students_may_see(tmp_path, secrets):
    shutil.copytree(REPO / "course_utils", tmp_path / "course_utils", ignore=shutil.ignore_patterns("__pycache__"))
    released = notebook("conv_vae")
    for cell in released.cells:  # what ClearSolutions and ClearHiddenTests leave of each cell
        cell.source = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "# YOUR CODE HERE\nraise NotImplementedError()",
                             cell.source, flags=re.S)
        cell.source = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", cell.source, flags=re.S)
    nbformat.write(released, tmp_path / "conv_vae.ipynb")
    assert instructor.scan(tmp_path, secrets) == []


# ---------------------------------------------------------------------------------------------------------------
# The workflow's errors


def _course_copy(tmp_path: Path) -> Path:
    shutil.copy(EXERCISES / "nbgrader_config.py", tmp_path)
    shutil.copytree(EXERCISES / "source", tmp_path / "source")
    return tmp_path


def test_autograde_without_submissions_says_what_to_do(tmp_path, capsys):
    course = _course_copy(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        instructor.main(["autograde", "--course", str(course)])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("error: nothing to grade:") and "\n" not in message


def test_autograde_before_release_says_what_to_do(tmp_path):
    course = _course_copy(tmp_path)
    (course / "submitted" / "alice" / "conv_vae").mkdir(parents=True)
    shutil.copy(course / "source" / "conv_vae" / "conv_vae.ipynb", course / "submitted" / "alice" / "conv_vae")
    with pytest.raises(instructor.InstructorError, match="make release"):
        instructor.autograde(course)
    (course / "submitted" / "alice" / "homework").mkdir()
    (course / "submitted" / "alice" / "homework" / "homework.ipynb").write_text("{}")
    with pytest.raises(instructor.InstructorError, match="homework"):
        instructor.autograde(course)


def test_release_refuses_a_folder_that_is_not_the_course(tmp_path):
    with pytest.raises(instructor.InstructorError, match="not the course folder"):
        instructor.release(tmp_path, tmp_path / "dist")


def test_student_pyproject_installs_course_utils_with_the_pinned_dependencies(tmp_path):
    import tomllib

    text = instructor._student_pyproject(instructor._project())
    student = tomllib.loads(text)
    assert student["project"]["dependencies"] == instructor._project()["dependencies"]
    assert student["tool"]["setuptools"]["packages"]["find"]["include"] == ["course_utils*"]
    assert textwrap.dedent(instructor.INSTALL).count("pip install -r requirements.txt") >= 1
