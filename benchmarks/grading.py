"""How long the autograder takes per submission, one at a time and a folder in parallel.

    python -m benchmarks.grading [--record] [--assignments conv_vae ...] [--jobs 2]

Submissions come from the autograder's corpus (tests/submissions, built with its own `corpus.py OUT_DIR`): per
assignment the reference submission and the `wrong` ones (one typical mistake each; the quick run takes an evenly
spaced sample of them, the record run all). Each is graded by the CLI as an instructor runs it,
`python -m autograder grade ASSIGNMENT FILE --json`, timed from process start to exit (interpreter, imports,
sandboxed checks). Then the same files are graded by `grade-folder --jobs N` for submissions per minute.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.registry import POINTS
from benchmarks.common import REPO, RESULTS_DIR, BenchmarkSkipped, median, percentile, write_result

NAME = "grading"
CORPUS = REPO / "tests" / "submissions" / "corpus.py"
GOAL_MEDIAN_SECONDS = 10


@dataclass
class GradingConfig:
    assignments: tuple[str, ...] = tuple(POINTS)
    wrong_per_assignment: int | None = 2  # an evenly spaced sample of the wrong submissions; None: all of them
    jobs: int = 2  # grade-folder's parallel graders


QUICK = GradingConfig()
RECORD = GradingConfig(wrong_per_assignment=None)


def cli(*args: str) -> tuple[float, dict]:
    """Run `python -m autograder ARGS --json`; outputs (wall seconds, its JSON)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "autograder", *args, "--json"], cwd=REPO, capture_output=True,
                            text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"`python -m autograder {' '.join(args)}` failed: {result.stderr.strip()[-500:]}")
    return seconds, json.loads(result.stdout)


def sample(paths: list[Path], count: int | None) -> list[Path]:
    """`count` of the paths spread evenly over the sorted list (all when count is None or large enough)."""
    if count is None or count >= len(paths):
        return paths
    if count == 0:
        return []
    spacing = (len(paths) - 1) / max(count - 1, 1)
    return [paths[round(i * spacing)] for i in range(count)]


def build_corpus(out: Path) -> None:
    if not CORPUS.is_file():
        raise BenchmarkSkipped(f"no submission corpus at {CORPUS}: run the benchmarks from a repository checkout")
    result = subprocess.run([sys.executable, str(CORPUS), str(out)], cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"building the corpus failed: {result.stderr.strip()[-500:]}")


def run(config: GradingConfig = QUICK, record: bool = False, results_dir=None) -> dict:
    assignments = {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        built, chosen_root = Path(scratch) / "built", Path(scratch) / "chosen"
        build_corpus(built)
        for assignment in config.assignments:
            folder = built / assignment
            chosen = [folder / "reference.py"] + sample(sorted(folder.glob("wrong-*.py")), config.wrong_per_assignment)
            graded = []
            for path in chosen:
                seconds, report = cli("grade", assignment, str(path))
                graded.append({"file": path.name, "seconds": seconds, "score": report["score"],
                               "max_score": report["max_score"]})
            # grade-folder grades every file of a folder: give it exactly the chosen ones.
            (chosen_root / assignment).mkdir(parents=True)
            for path in chosen:
                shutil.copy(path, chosen_root / assignment / path.name)
            folder_seconds, folder_report = cli("grade-folder", assignment, str(chosen_root / assignment),
                                                "--jobs", str(config.jobs))
            seconds = [g["seconds"] for g in graded]
            reference, wrong = graded[0], graded[1:]
            assignments[assignment] = {
                "submissions": graded, "median_seconds": median(seconds), "p95_seconds": percentile(seconds, 95),
                "reference_full_marks": reference["score"] == reference["max_score"],
                "wrong_below_full_marks": sum(g["score"] < g["max_score"] for g in wrong), "wrong_graded": len(wrong),
                "folder_seconds": folder_seconds, "folder_submissions_per_minute": 60 * len(chosen) / folder_seconds,
                "folder_submissions_per_minute_excluding_startup": folder_report["submissions_per_minute"],
            }
            a = assignments[assignment]
            print(f"{assignment}: {len(chosen)} submissions, median {a['median_seconds']:.1f} s, p95 "
                  f"{a['p95_seconds']:.1f} s per submission (reference {reference['score']:g}/"
                  f"{reference['max_score']:g}, {a['wrong_below_full_marks']}/{len(wrong)} wrong ones marked down); "
                  f"grade-folder --jobs {config.jobs}: {a['folder_submissions_per_minute']:.1f} submissions/min",
                  flush=True)
    summary = f"{NAME}: " + "; ".join(
        f"{assignment} median {a['median_seconds']:.1f} s, p95 {a['p95_seconds']:.1f} s, "
        f"{a['folder_submissions_per_minute']:.1f}/min with {config.jobs} jobs" for assignment, a in assignments.items()
    ) + f" (goal: median < {GOAL_MEDIAN_SECONDS} s)"
    payload = write_result(NAME, record, dataclasses.asdict(config), {"assignments": assignments}, summary,
                           results_dir)
    print(summary, flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading", description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="every wrong submission; writes grading-record.json")
    parser.add_argument("--assignments", nargs="+", choices=list(POINTS), help="default: all")
    parser.add_argument("--jobs", type=int, default=QUICK.jobs, help="grade-folder's parallel graders")
    parser.add_argument("--results", default=str(RESULTS_DIR), help="folder for the JSON result")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    config = RECORD if args.record else QUICK
    config = dataclasses.replace(config, assignments=tuple(args.assignments or config.assignments), jobs=args.jobs)
    try:
        run(config, args.record, args.results)
    except BenchmarkSkipped as skipped:
        print(f"{NAME}: skipped: {skipped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
