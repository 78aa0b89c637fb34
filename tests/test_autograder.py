"""The autograder on the submission corpus (tests/submissions): the reference and every differently written
correct submission get full marks, every typical mistake loses exactly its check's points with the teaching
message, and hostile code neither hangs nor crashes the batch nor forges a score, nor changes anything outside
its jail: no file of the grader or of another submission, not the output, no process left behind, no network.

Each assignment's corpus is graded once, in parallel, through the CLI's grade-folder; the tests read its JSON.
Hostile submissions are graded only where the jail has its full isolation (namespaces): at the weaker process
level a fork bomb would be a real one."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder import sandbox
from submissions import corpus

pytestmark = pytest.mark.xdist_group("autograder")  # one worker grades the corpus once for all these tests
TIMEOUT = 5  # seconds per check: hostile endless loops cost this much, correct checks need far less
# The sleep durations of new_dataset/hostile/spawn_processes.py and conv_vae/hostile/leave_a_rewriter_behind.py.
LEFT_BEHIND_MARKERS = ("86.4231", "86.4233")
LISTENER_PORT = 47613  # interpolation/hostile/open_sockets.py tries it
REPO = corpus.REPO
ISOLATED = sandbox.isolation().level == "namespaces"
KINDS = corpus.KINDS if ISOLATED else tuple(kind for kind in corpus.KINDS if kind != "hostile")


def _grade_folder(assignment: str, folder: Path, csv: Path) -> dict:
    command = [sys.executable, "-m", "autograder", "grade-folder", assignment, str(folder), "--jobs", "2",
               "--json", "--timeout", str(TIMEOUT), "--csv", str(csv)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _fingerprints(*folders: Path) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for folder in folders
            for path in sorted(folder.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}


class _Listener:
    """A TCP server on the grading machine's loopback that counts the connections it gets."""

    def __init__(self, port: int):
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                self.server.accept()[0].close()
                self.connections += 1
            except OSError:
                pass

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """{assignment: {"reports": {graded file name: (kind, corpus file, report)}, "json": ..., "csv": path,
    "changed": [files of the grader or the corpus changed by grading]}, "connections": count}."""
    results = {}
    try:
        listener = _Listener(LISTENER_PORT)
    except OSError:  # the port is taken on this machine: nothing to count on it
        listener = None
    try:
        for assignment in corpus.ASSIGNMENTS:
            folder = tmp_path_factory.mktemp(assignment)
            built = corpus.build(folder, assignment, KINDS)
            csv = folder.parent / f"{assignment}.csv"
            before = _fingerprints(folder, REPO / "autograder", REPO / "solutions", REPO / "course_utils")
            data = _grade_folder(assignment, folder, csv)
            after = _fingerprints(folder, REPO / "autograder", REPO / "solutions", REPO / "course_utils")
            reports = {}
            for report in data["submissions"]:
                kind, source = built[folder / report["file"]]
                reports[report["file"]] = (kind, source, report)
            changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
            results[assignment] = {"reports": reports, "json": data, "csv": csv, "changed": changed,
                                   "csv_text": csv.read_text()}
    finally:
        if listener:
            listener.close()
    results["connections"] = listener.connections if listener else None
    return results


def _cases(kind: str):
    marks = [] if kind in KINDS else [pytest.mark.skip(reason=f"this machine's isolation: {sandbox.isolation()}")]
    return [pytest.param(assignment, path, id=f"{assignment}/{path.stem}", marks=marks)
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


needs_isolation = pytest.mark.skipif(not ISOLATED, reason=f"this machine's isolation: {sandbox.isolation()}")


@needs_isolation
def test_processes_started_by_a_submission_die_with_its_jail(graded):
    assert {"hostile-spawn_processes.py", "hostile-fork_bomb.py", "hostile-leave_a_rewriter_behind.py"} <= {
        name for assignment in corpus.ASSIGNMENTS for name in graded[assignment]["reports"]}
    time.sleep(1)  # SIGKILL is delivered asynchronously
    commands = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
        except OSError:
            continue
    assert not [c for c in commands if any(marker in c for marker in LEFT_BEHIND_MARKERS)]


@needs_isolation
def test_no_file_of_the_grader_or_of_another_submission_changes_and_the_output_stands(graded):
    time.sleep(2)  # what a process left behind would have done by now (none survives: see the test above)
    for assignment in corpus.ASSIGNMENTS:
        assert graded[assignment]["changed"] == []
        assert graded[assignment]["csv"].read_text() == graded[assignment]["csv_text"]
        rows = graded[assignment]["csv_text"].splitlines()[1:]
        scores = {row.split(",")[0]: float(row.split(",")[1]) for row in rows}
        assert scores == {report["file"]: report["score"] for report in graded[assignment]["json"]["submissions"]}


@needs_isolation
def test_no_submission_reaches_the_network(graded):
    assert "hostile-open_sockets.py" in graded["interpolation"]["reports"]  # its report: "connected to nothing"
    if graded["connections"] is None:
        pytest.skip(f"port {LISTENER_PORT} is taken on this machine")
    assert graded["connections"] == 0


@needs_isolation
def test_the_rest_of_the_batch_is_graded_as_if_the_hostile_submissions_were_not_there(graded, tmp_path):
    """The reference and the correct submissions, graded again without any hostile neighbour: same reports."""
    for assignment in corpus.ASSIGNMENTS:
        folder = tmp_path / assignment
        corpus.build(folder, assignment, ("correct",))
        alone = _grade_folder(assignment, folder, tmp_path / f"{assignment}.csv")
        for report in alone["submissions"]:
            among_hostile = graded[assignment]["reports"][report["file"]][2]
            assert among_hostile["checks"] == report["checks"], report["file"]


def test_grade_folder_reports_throughput_and_writes_csv(graded):
    data = graded["interpolation"]["json"]
    assert data["assignment"] == "interpolation" and data["submissions_per_minute"] > 0
    rows = graded["interpolation"]["csv"].read_text().splitlines()
    assert rows[0] == "submission,score,max_score,seconds,lerp,slerp,interpolate"
    assert len(rows) == 1 + len(data["submissions"])
