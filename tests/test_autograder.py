"""The autograder on the submission corpus (tests/submissions): the reference and every differently written
correct submission get full marks, every typical mistake loses exactly its check's points with the teaching
message, and hostile code neither hangs nor crashes the batch nor forges a score.

Each assignment's corpus is graded once, in parallel, through the CLI's grade-folder; the tests read its JSON."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from submissions import corpus

pytestmark = pytest.mark.xdist_group("autograder")  # one worker grades the corpus once for all these tests
TIMEOUT = 5  # seconds per check: hostile endless loops cost this much, correct checks need far less
SPAWNED_MARKER = "86.4231"  # the sleep duration of new_dataset/hostile/spawn_processes.py


def _grade_folder(assignment: str, folder: Path, csv: Path) -> dict:
    command = [sys.executable, "-m", "autograder", "grade-folder", assignment, str(folder), "--jobs", "2",
               "--json", "--timeout", str(TIMEOUT), "--csv", str(csv)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """{assignment: {"reports": {graded file name: (kind, corpus file, report)}, "json": ..., "csv": path}}."""
    results = {}
    for assignment in corpus.ASSIGNMENTS:
        folder = tmp_path_factory.mktemp(assignment)
        built = corpus.build(folder, assignment)
        csv = folder.parent / f"{assignment}.csv"
        data = _grade_folder(assignment, folder, csv)
        reports = {}
        for report in data["submissions"]:
            kind, source = built[folder / report["file"]]
            reports[report["file"]] = (kind, source, report)
        results[assignment] = {"reports": reports, "json": data, "csv": csv}
    return results


def _cases(kind: str):
    return [pytest.param(assignment, path, id=f"{assignment}/{path.stem}")
            for assignment in corpus.ASSIGNMENTS for path in corpus.sources(assignment, kind)]


def _report(graded, assignment: str, kind: str, path: Path) -> dict:
    return graded[assignment]["reports"][f"{kind}-{path.name}"][2]


def _assert_expected_failures(report: dict, path: Path) -> None:
    expected = corpus.expectations(path)
    failed = {check["name"]: check["message"] for check in report["checks"] if not check["passed"]}
    if "all" in expected:
        assert len(failed) == len(report["checks"]), f"every check should fail, got {failed}"
        assert all(expected["all"] in message for message in failed.values()), failed
        return
    assert set(failed) == set(expected), f"expected exactly {sorted(expected)} to fail, got {failed}"
    for name, fragment in expected.items():
        assert fragment in failed[name], f"{name}: expected {fragment!r} in {failed[name]!r}"
    lost = sum(check["max_points"] for check in report["checks"] if check["name"] in expected)
    assert report["score"] == report["max_score"] - lost


def test_corpus_is_large_enough():
    assert sum(len(corpus.sources(a, "wrong")) for a in corpus.ASSIGNMENTS) >= 25
    assert sum(len(corpus.sources(a, "correct")) for a in corpus.ASSIGNMENTS) >= 8
    for assignment in corpus.ASSIGNMENTS:
        for kind in ("wrong", "hostile"):
            for path in corpus.sources(assignment, kind):
                assert corpus.expectations(path) or "full marks" in path.read_text(), f"{path} states no expectation"


@pytest.mark.parametrize("assignment", corpus.ASSIGNMENTS)
@pytest.mark.parametrize("reference", ["reference.py", "reference-notebook.ipynb"])
def test_reference_gets_full_marks(graded, assignment, reference):
    if reference not in graded[assignment]["reports"]:
        pytest.skip(f"no instructor notebook {corpus.reference_notebook(assignment)}")
    report = graded[assignment]["reports"][reference][2]
    assert report["score"] == report["max_score"], report["checks"]


@pytest.mark.parametrize("assignment, path", _cases("correct"))
def test_differently_written_correct_submission_gets_full_marks(graded, assignment, path):
    report = _report(graded, assignment, "correct", path)
    assert report["score"] == report["max_score"], [c for c in report["checks"] if not c["passed"]]


@pytest.mark.parametrize("assignment, path", _cases("wrong"))
def test_typical_mistake_loses_its_check_with_a_teaching_message(graded, assignment, path):
    _assert_expected_failures(_report(graded, assignment, "wrong", path), path)


@pytest.mark.parametrize("assignment, path", _cases("hostile"))
def test_hostile_submission_is_graded_in_bounded_time_without_forged_points(graded, assignment, path):
    report = _report(graded, assignment, "hostile", path)
    _assert_expected_failures(report, path)
    assert report["seconds"] < 4 * TIMEOUT + 60


def test_processes_started_by_a_submission_die_with_its_sandbox(graded):
    assert "hostile-spawn_processes.py" in graded["new_dataset"]["reports"]
    time.sleep(1)  # SIGKILL is delivered asynchronously
    commands = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
        except OSError:
            continue
    assert not [c for c in commands if SPAWNED_MARKER in c]


def test_grade_folder_reports_throughput_and_writes_csv(graded):
    data = graded["interpolation"]["json"]
    assert data["assignment"] == "interpolation" and data["submissions_per_minute"] > 0
    rows = graded["interpolation"]["csv"].read_text().splitlines()
    assert rows[0] == "submission,score,max_score,seconds,lerp,slerp,interpolate"
    assert len(rows) == 1 + len(data["submissions"])
