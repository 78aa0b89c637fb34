"""How long the autograder takes per submission, one at a time and a folder in parallel.

    python -m benchmarks.grading [--record] [--assignments conv_vae ...] [--jobs 2]

Submissions come from the autograder's corpus (tests/submissions, built with its own `corpus.py OUT_DIR`): per
assignment the reference submission and the `wrong` ones (one typical mistake each; the quick run takes an evenly
spaced sample of them, the record run all). Each is graded by the CLI as an instructor runs it,
`python -m autograder grade ASSIGNMENT FILE --json`, timed from process start to exit (interpreter, imports,
sandboxed checks). Then a folder of them (the record run: 100 per assignment, the chosen files repeated) is graded
by `grade-folder --jobs N` for submissions per minute. Last, `nbgrader autograde` of one student's notebook (the
instructor version, so every cell runs) is timed per assignment, in a temporary copy of the course.

`--baseline REV` also times the grader as it was at git revision REV (extracted into a temporary folder, run
with the same Python), interleaved with the current one on the same files, so that a change's cost is measured
side by side in one run rather than against an old record.
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
GOAL_NBGRADER_SECONDS = 30  # nbgrader autograde of one notebook


@dataclass
class GradingConfig:
    assignments: tuple[str, ...] = tuple(POINTS)
    wrong_per_assignment: int | None = 2  # an evenly spaced sample of the wrong submissions; None: all of them
    jobs: int = 2  # grade-folder's parallel graders
    folder_size: int | None = None  # submissions in the grade-folder run (the chosen ones repeated); None: just those
    nbgrader: bool = True  # also time `nbgrader autograde` of one notebook per assignment
    baseline: str | None = None  # a git revision whose grader is timed alongside, on the same files


QUICK = GradingConfig()
RECORD = GradingConfig(wrong_per_assignment=None, folder_size=100)
EXERCISES = REPO / "exercises"


def cli(*args: str, root: Path = REPO) -> tuple[float, dict]:
    """Run `python -m autograder ARGS --json` from the checkout at root; outputs (wall seconds, its JSON)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "autograder", *args, "--json"], cwd=root, capture_output=True,
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


def time_nbgrader_autograde(names: tuple[str, ...], course: Path) -> dict[str, float]:
    """Seconds of `nbgrader autograde ASSIGNMENT --student bench` per assignment, in a fresh copy of the course
    with the assignments generated and the instructor notebook submitted."""
    from autograder.instructor import nbgrader

    course.mkdir()
    shutil.copy(EXERCISES / "nbgrader_config.py", course)
    shutil.copytree(EXERCISES / "source", course / "source")
    nbgrader(course, "generate_assignment", "*", "--force")
    seconds = {}
    for assignment in names:
        submitted = course / "submitted" / "bench" / assignment
        submitted.mkdir(parents=True)
        shutil.copy(course / "source" / assignment / f"{assignment}.ipynb", submitted)
        started = time.perf_counter()
        nbgrader(course, "autograde", assignment, "--student", "bench", "--force")
        seconds[assignment] = time.perf_counter() - started
    return seconds


def extract_revision(revision: str, target: Path) -> str:
    """The repository as of `revision`, written into target (git archive); returns the full commit hash."""
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{revision}^{{commit}}"], cwd=REPO, capture_output=True,
                            text=True)
    if commit.returncode != 0:
        raise BenchmarkSkipped(f"--baseline {revision}: not a git revision of {REPO}")
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit.stdout.strip()], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return commit.stdout.strip()


def time_baseline(assignment: str, chosen: list[Path], folder: Path, config: GradingConfig, root: Path,
                  current: list[dict]) -> dict:
    """The baseline grader on the same files; each `grade` right after the current one's (already in current),
    so that both see the same machine load."""
    seconds = []
    for path, now in zip(chosen, current):
        took, report = cli("grade", assignment, str(path), root=root)
        seconds.append(took)
        now["baseline_seconds"], now["baseline_score"] = took, report["score"]
    folder_seconds, _ = cli("grade-folder", assignment, str(folder), "--jobs", str(config.jobs), root=root)
    return {"median_seconds": median(seconds), "p95_seconds": percentile(seconds, 95),
            "folder_submissions_per_minute": 60 * len(list(folder.iterdir())) / folder_seconds}


def run(config: GradingConfig = QUICK, record: bool = False, results_dir=None) -> dict:
    assignments = {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        built, chosen_root = Path(scratch) / "built", Path(scratch) / "chosen"
        build_corpus(built)
        baseline_root = Path(scratch) / "baseline"
        baseline_commit = extract_revision(config.baseline, baseline_root) if config.baseline else None
        for assignment in config.assignments:
            folder = built / assignment
            chosen = [folder / "reference.py"] + sample(sorted(folder.glob("wrong-*.py")), config.wrong_per_assignment)
            graded = []
            for path in chosen:
                seconds, report = cli("grade", assignment, str(path))
                graded.append({"file": path.name, "seconds": seconds, "score": report["score"],
                               "max_score": report["max_score"]})
            # grade-folder grades every file of a folder: give it exactly the chosen ones, repeated to folder_size.
            (chosen_root / assignment).mkdir(parents=True)
            folder = [chosen[i % len(chosen)] for i in range(config.folder_size or len(chosen))]
            for index, path in enumerate(folder):
                shutil.copy(path, chosen_root / assignment / f"{index:03d}-{path.name}")
            folder_seconds, folder_report = cli("grade-folder", assignment, str(chosen_root / assignment),
                                                "--jobs", str(config.jobs))
            baseline = (time_baseline(assignment, chosen, chosen_root / assignment, config, baseline_root, graded)
                        if baseline_commit else None)
            seconds = [g["seconds"] for g in graded]
            reference, wrong = graded[0], graded[1:]
            assignments[assignment] = {
                "submissions": graded, "median_seconds": median(seconds), "p95_seconds": percentile(seconds, 95),
                "reference_full_marks": reference["score"] == reference["max_score"],
                "wrong_below_full_marks": sum(g["score"] < g["max_score"] for g in wrong), "wrong_graded": len(wrong),
                "folder_size": len(folder), "folder_seconds": folder_seconds,
                "folder_submissions_per_minute": 60 * len(folder) / folder_seconds,
                "folder_submissions_per_minute_excluding_startup": folder_report["submissions_per_minute"],
                "isolation": folder_report.get("isolation", "none"),
            }
            if baseline:
                assignments[assignment]["baseline"] = dict(baseline, revision=baseline_commit)
            a = assignments[assignment]
            print(f"{assignment}: {len(chosen)} submissions, median {a['median_seconds']:.1f} s, p95 "
                  f"{a['p95_seconds']:.1f} s per submission (reference {reference['score']:g}/"
                  f"{reference['max_score']:g}, {a['wrong_below_full_marks']}/{len(wrong)} wrong ones marked down); "
                  f"grade-folder of {len(folder)} with --jobs {config.jobs}: "
                  f"{a['folder_submissions_per_minute']:.1f} submissions/min"
                  + (f"; baseline {baseline_commit[:7]}: median {baseline['median_seconds']:.1f} s, grade-folder "
                     f"{baseline['folder_submissions_per_minute']:.1f}/min" if baseline else ""), flush=True)
        if config.nbgrader:
            for assignment, seconds in time_nbgrader_autograde(config.assignments, Path(scratch) / "course").items():
                assignments[assignment]["nbgrader_autograde_seconds"] = seconds
                print(f"{assignment}: nbgrader autograde of one notebook {seconds:.1f} s", flush=True)
    summary = f"{NAME}: " + "; ".join(
        f"{assignment} median {a['median_seconds']:.1f} s, p95 {a['p95_seconds']:.1f} s, "
        f"{a['folder_submissions_per_minute']:.1f}/min with {config.jobs} jobs"
        + (f", nbgrader autograde {a['nbgrader_autograde_seconds']:.0f} s" if "nbgrader_autograde_seconds" in a else "")
        for assignment, a in assignments.items()
    ) + f" (goal: median < {GOAL_MEDIAN_SECONDS} s, nbgrader autograde < {GOAL_NBGRADER_SECONDS} s)"
    payload = write_result(NAME, record, dataclasses.asdict(config), {"assignments": assignments}, summary,
                           results_dir)
    print(summary, flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading", description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="every wrong submission; writes grading-record.json")
    parser.add_argument("--assignments", nargs="+", choices=list(POINTS), help="default: all")
    parser.add_argument("--jobs", type=int, default=QUICK.jobs, help="grade-folder's parallel graders")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip timing nbgrader autograde")
    parser.add_argument("--baseline", metavar="REV", help="also time the grader of this git revision, side by side")
    parser.add_argument("--results", default=str(RESULTS_DIR), help="folder for the JSON result")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    config = RECORD if args.record else QUICK
    config = dataclasses.replace(config, assignments=tuple(args.assignments or config.assignments), jobs=args.jobs,
                                 nbgrader=config.nbgrader and not args.no_nbgrader, baseline=args.baseline)
    try:
        run(config, args.record, args.results)
    except BenchmarkSkipped as skipped:
        print(f"{NAME}: skipped: {skipped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
