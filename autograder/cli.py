"""Command line: grade one submission, or a folder of them in parallel.

    python -m autograder grade ASSIGNMENT SUBMISSION [--json] [--timeout S] [--require-isolation LEVEL]
    python -m autograder grade-folder ASSIGNMENT DIR [--jobs N] [--json] [--csv PATH] [--timeout S]
                                                     [--require-isolation LEVEL]

Exit status 0 whenever grading worked (whatever the scores), 2 for bad usage, 3 when this machine cannot grade
(a broken installation, or isolation below --require-isolation); one line on stderr says why.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from autograder import sandbox
from autograder.registry import POINTS, GradingError, check_names, max_points
from autograder.sandbox import DEFAULT_TIMEOUT, LEVELS, SandboxError

SUBMISSION_SUFFIXES = (".ipynb", ".py")


def _table(report) -> str:
    width = max(len(check.name) for check in report.checks)
    lines = [f"{'check':<{width}}  points  result"]
    for check in report.checks:
        lines.append(f"{check.name:<{width}}  {check.points:>2g}/{check.max_points:<3g}  {check.message}")
    lines.append(f"{'score':<{width}}  {report.score:>2g}/{report.max_score:<3g}")
    lines += [f"note: {note}" for note in report.notes]
    lines.append(f"isolation: {sandbox.isolation()}")
    return "\n".join(lines)


def _marker(workspace: str, path: str | Path) -> Path:
    """The file that says `path` is being graded (submissions of several students may share a name)."""
    return Path(workspace, hashlib.sha256(str(path).encode()).hexdigest()[:32] + ".running")


def _grade_one(assignment: str, path: str, timeout: float, workspace: str | None = None):
    """Grade one file (in a pool process). While it runs, a marker file in grade_paths's workspace names it, so
    that if its code kills this process, grade_paths knows which submission to blame."""
    from autograder.grade import grade_file

    mark = _marker(workspace, path) if workspace else None
    if mark:
        mark.touch()
    report = grade_file(assignment, path, timeout)
    if mark:
        mark.unlink()
    return report


def _crashed(assignment: str):
    """The report of a submission whose code kills the process grading it."""
    from autograder.grade import CheckResult, Report

    message = "the submission killed the grading process"
    return Report(assignment, [CheckResult(name, 0.0, max_points(assignment, name), False, message)
                               for name in check_names(assignment)], [message])


def _start_pool_process(workspace: str) -> None:
    """A pool process starts its jail at once (it imports torch while the pool fills), with its scratch folders
    (process-level isolation only) in grade_folder's workspace."""
    sandbox.use_scratch_root(workspace)
    sandbox.jail()


def _pool_round(assignment: str, paths: list[Path], jobs: int, timeout: float, workspace: str):
    """Grade paths with a process pool: ({path: report}, [paths lost because a pool process died])."""
    reports, lost = {}, []
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), initializer=_start_pool_process,
                             initargs=(workspace,)) as pool:
        futures = {pool.submit(_grade_one, assignment, str(path), timeout, workspace): path for path in paths}
        for future in as_completed(futures):
            try:
                reports[futures[future]] = future.result()
            except BrokenProcessPool:
                lost.append(futures[future])
    return reports, lost


def grade_folder(assignment: str, folder: Path, jobs: int, timeout: float) -> dict[Path, object]:
    """Grade every .ipynb/.py file of the folder with a process pool."""
    return grade_paths(assignment, sorted(p for p in folder.iterdir() if p.suffix in SUBMISSION_SUFFIXES
                                          and p.is_file()), jobs, timeout)


def grade_paths(assignment: str, paths: list[Path], jobs: int, timeout: float) -> dict[Path, object]:
    """Grade the files with a process pool; {path: Report} in their order.

    At the process isolation level, a submission whose code kills its pool process breaks the pool, and every
    unfinished submission with it. Those that had not started are graded again in a new pool; those that were
    running are regraded alone, and one that breaks even its own pool scores zero."""
    reports: dict[Path, object] = {}
    # the run's workspace: the markers of running submissions and the sandboxes' scratch folders
    with tempfile.TemporaryDirectory(prefix="autograder-folder-", ignore_cleanup_errors=True) as workspace:
        queue = paths
        while queue:
            done, lost = _pool_round(assignment, queue, jobs, timeout, workspace)
            reports.update(done)
            suspects = [path for path in lost if _marker(workspace, path).exists()] or lost
            for path in suspects:
                _marker(workspace, path).unlink(missing_ok=True)
                alone, _ = _pool_round(assignment, [path], 1, timeout, workspace)
                reports.update(alone or {path: _crashed(assignment)})
            queue = [path for path in lost if path not in suspects]
    return {path: reports[path] for path in paths}


def _write_csv(path: Path, assignment: str, reports: dict) -> None:
    names = check_names(assignment)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "score", "max_score", "seconds", *names])
        for submission, report in reports.items():
            points = {check.name: check.points for check in report.checks}
            writer.writerow([submission.name, report.score, report.max_score, f"{report.seconds:.2f}",
                             *(points[name] for name in names)])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("grade", help="grade one notebook (.ipynb) or Python file (.py)")
    one.add_argument("assignment", help=f"one of: {', '.join(POINTS)}")
    one.add_argument("submission", type=Path)
    folder = commands.add_parser("grade-folder", help="grade every .ipynb/.py file of a folder in parallel")
    folder.add_argument("assignment", help=f"one of: {', '.join(POINTS)}")
    folder.add_argument("folder", type=Path)
    folder.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel graders (default: CPU count)")
    folder.add_argument("--csv", type=Path, help="also write the scores to this CSV file")
    for command in (one, folder):
        command.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
        command.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                             help=f"seconds each check may run (default {DEFAULT_TIMEOUT:g})")
        command.add_argument("--require-isolation", choices=LEVELS, default=LEVELS[0],
                             help="refuse to grade below this isolation level (see autograder/README.md)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        check_names(args.assignment)
        if args.timeout <= 0:
            raise GradingError(f"--timeout must be positive, got {args.timeout:g}")
        isolation = sandbox.require(args.require_isolation)
        if isolation.level != LEVELS[-1]:
            print(f"warning: isolation level {isolation}", file=sys.stderr)
        if args.command == "grade":
            if not args.submission.is_file():
                raise GradingError(f"no such submission file: {args.submission}")
            report = _grade_one(args.assignment, str(args.submission), args.timeout)
            print(json.dumps(report.as_dict()) if args.json else f"{args.submission.name}\n{_table(report)}")
            return 0
        if not args.folder.is_dir():
            raise GradingError(f"no such folder: {args.folder}")
        if args.jobs < 1:
            raise GradingError(f"--jobs must be at least 1, got {args.jobs}")
        started = time.monotonic()
        reports = grade_folder(args.assignment, args.folder, args.jobs, args.timeout)
        elapsed = time.monotonic() - started
        per_minute = 60 * len(reports) / elapsed if reports else 0.0
        if args.csv:
            _write_csv(args.csv, args.assignment, reports)
    except GradingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SandboxError as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps({"assignment": args.assignment, "seconds": elapsed, "submissions_per_minute": per_minute,
                          "isolation": isolation.level,
                          "submissions": [{"file": path.name, "seconds": report.seconds, **report.as_dict()}
                                          for path, report in reports.items()]}))
    else:
        width = max([len(path.name) for path in reports] + [10])
        for path, report in reports.items():
            print(f"{path.name:<{width}}  {report.score:>4g}/{report.max_score:<4g}  {report.seconds:5.1f} s")
        print(f"{len(reports)} submissions in {elapsed:.1f} s: {per_minute:.1f} submissions/minute "
              f"with {args.jobs} jobs")
        print(f"isolation: {isolation}")
    return 0
