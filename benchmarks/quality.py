"""Test bits/dim reached within a wall-clock budget on real CIFAR-10, model by model, against published numbers.

    python -m benchmarks.quality [--record] [--models hvae conv fc] [--minutes 1 ...] [--data-root DIR]

Every (model, budget) pair is its own run of solutions.train.train with `max_minutes` set to the budget, so its
cosine learning-rate schedule spans exactly that budget: the number is what a user gets by training for that long.
Each model trains with its recipe (solutions.train.RECIPES), printed as a command.
solutions.train evaluates the whole test split after every epoch and once more when the budget is spent; the
epochs in between give the curve inside the run. Minutes count training steps only, not evaluation.
"""
from __future__ import annotations

import argparse
import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import RESULTS_DIR, BenchmarkSkipped, write_result
from course_utils.data import DataError, load_cached, resolve_data_root
from course_utils.devices import default_device
from solutions.train import RECIPES, TrainConfig, train, train_command

NAME = "quality"
GOAL_BPD, GOAL_MINUTES = 4.5, 30
# Test bits/dim on CIFAR-10 to compare with (the list); lower is better.
ANCHORS = (
    ("conv VAE, published", "4.51-4.54"),
    ("ResNet VAE + discretized logistic", "3.5-3.7"),
    ("IAF-VAE (Kingma et al., 2016)", "3.11"),
    ("NVAE (Vahdat & Kautz, 2020)", "2.91"),
    ("VDVAE (Child, 2021)", "2.87"),
    ("the issue's DCGAN baseline, 15 min on this machine", "6.16"),
)
MARKS = (0.5, 1, 2, 5, 10, 15, 20, 30, 60)  # minutes at which the table reads off the curve
ENOUGH_EPOCHS = 10**6  # the budget, not the epoch count, ends every run


@dataclass
class QualityConfig:
    budgets: dict[str, tuple[float, ...]] = field(  # model -> training budgets in minutes, one run each
        default_factory=lambda: {"hvae": (1.0,), "conv": (1.0,), "fc": (1.0,)})
    batch_size: int = 128
    data_root: str | None = None  # None: $VAE_DATA_ROOT or ./data
    limit: int | None = None  # train on the first N images only (smoke tests)
    eval_limit: int | None = None  # evaluate on the first N test images only (smoke tests)
    device: str | None = None
    seed: int = 0
    runs_dir: str | None = None  # keep each run (checkpoint, metrics) in runs_dir/<model>-<minutes>min; None: discard


QUICK = QualityConfig()
# The goal's model at 10 and 30 minutes; the assignment's conv vs FC comparison at 10 (about an hour in all).
RECORD = QualityConfig(budgets={"hvae": (10.0, 30.0), "conv": (10.0,), "fc": (10.0,)})


def run_config(model: str, minutes: float, config: QualityConfig, out: Path) -> TrainConfig:
    return TrainConfig(dataset="cifar10", model=model, epochs=ENOUGH_EPOCHS, batch_size=config.batch_size,
                       seed=config.seed, out=str(out), data_root=config.data_root, device=config.device,
                       max_minutes=minutes, limit=config.limit, eval_limit=config.eval_limit, **RECIPES[model])


def run_dir(runs_dir: Path, model: str, minutes: float) -> Path:
    return runs_dir / f"{model}-{minutes:g}min"


def train_budgets(model: str, config: QualityConfig, runs_dir: Path) -> dict:
    """One fresh run per budget. Outputs: {"command", "at_budget": {minutes: last row},
    "history": the longest run's rows}."""
    at_budget, history = {}, []
    for minutes in sorted(config.budgets[model]):
        run = run_config(model, minutes, config, run_dir(runs_dir, model, minutes))
        history = train(run)
        at_budget[minutes] = history[-1]
    shown_dir = run.out if config.runs_dir else run_dir(Path("runs"), model, minutes)
    command = train_command(dataclasses.asdict(run), shown_dir)
    return {"command": command, "at_budget": at_budget, "history": history}


def bpd_at(minutes: float, history: list[dict], at_budget: dict[float, dict]) -> float | None:
    """Test bits/dim after `minutes` of training: that budget's own run, else the latest epoch before that time in
    the longest run (whose schedule was still mid-way), else None."""
    if minutes in at_budget:
        return at_budget[minutes]["test_bpd"]
    earlier = [row for row in history if row["seconds"] <= minutes * 60]
    return earlier[-1]["test_bpd"] if earlier and minutes < max(at_budget) else None


def table(curves: dict[str, dict[float, float | None]]) -> str:
    """Minutes down, models across, bits/dim in the cells ("-": no evaluation yet; rows with none are left out)."""
    lines = [f"{'minutes':>7}  " + "  ".join(f"{model + ' bpd':>10}" for model in curves)]
    for minutes in next(iter(curves.values())):
        cells = [curve[minutes] for curve in curves.values()]
        if all(c is None for c in cells):
            continue
        lines.append(f"{minutes:>7g}  " + "  ".join(f"{'-' if c is None else f'{c:.3f}':>10}" for c in cells))
    return "\n".join(lines)


def run(config: QualityConfig = QUICK, record: bool = False, results_dir=None) -> dict:
    root = resolve_data_root(config.data_root)
    try:
        load_cached("cifar10", root, "train")
    except DataError as error:
        raise BenchmarkSkipped(f"quality trains on the real CIFAR-10, which is missing ({error})") from None
    budgets = {minutes for model_budgets in config.budgets.values() for minutes in model_budgets}
    marks = sorted({m for m in MARKS if m < max(budgets)} | budgets)
    models, curves = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as scratch:
        runs_dir = Path(config.runs_dir or scratch)
        for model, model_budgets in config.budgets.items():
            print(f"quality: training {model}, one run per budget: {', '.join(f'{m:g}' for m in model_budgets)} min",
                  flush=True)
            trained = train_budgets(model, config, runs_dir)
            curves[model] = {m: bpd_at(m, trained["history"], trained["at_budget"]) for m in marks}
            models[model] = {**trained, "at_budget": {str(m): row for m, row in trained["at_budget"].items()},
                             "curve": {str(m): bpd for m, bpd in curves[model].items()}}
            print(f"quality: {model} trained as `{trained['command']}`", flush=True)
    print(table(curves))
    print("published / reference test bits/dim: " + "; ".join(f"{what} {bpd}" for what, bpd in ANCHORS))
    results = {"data_root": str(root), "marks_minutes": marks, "models": models, "anchors": dict(ANCHORS)}
    summary = f"{NAME}: " + "; ".join(
        f"{model} " + ", ".join(f"{bpd:.3f} after {m:g} min" for m, bpd in curves[model].items()
                                if m in config.budgets[model]) for model in curves) + (
        f" (bits/dim; goal <= {GOAL_BPD} within {GOAL_MINUTES} min; published conv VAE {ANCHORS[0][1]})")
    payload = write_result(NAME, record, dataclasses.asdict(config), results, summary, results_dir,
                           default_device(config.device))
    print(summary, flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true",
                        help=f"the record budgets {RECORD.budgets}; writes quality-record.json")
    parser.add_argument("--models", nargs="+", choices=list(RECIPES), help="models to train (default: the mode's)")
    parser.add_argument("--minutes", type=float, nargs="+", help="training budgets in minutes for every model "
                        "(default: 1 each; the record's per-model budgets with --record)")
    parser.add_argument("--data-root", help="default: $VAE_DATA_ROOT or ./data")
    parser.add_argument("--device", help="cpu | cuda; default: CUDA when present")
    parser.add_argument("--results", default=str(RESULTS_DIR), help="folder for the JSON result")
    parser.add_argument("--runs-dir", help="keep every run here as <model>-<minutes>min (default: discard them); "
                        "it must not hold these runs already")
    args = parser.parse_args(argv)
    config = RECORD if args.record else QUICK
    if args.minutes and min(args.minutes) <= 0:
        parser.error("--minutes must be positive")
    models = args.models or list(config.budgets)
    budgets = {model: tuple(args.minutes) if args.minutes else config.budgets.get(model, (1.0,)) for model in models}
    config = dataclasses.replace(config, budgets=budgets, data_root=args.data_root, device=args.device,
                                 runs_dir=args.runs_dir)
    if args.runs_dir:
        planned = [run_dir(Path(args.runs_dir), model, minutes) for model, model_budgets in budgets.items()
                   for minutes in model_budgets]
        taken = [folder for folder in planned if (folder / "checkpoint.pt").exists()]
        if taken:
            parser.error(f"{taken[0]} already holds a run: choose a fresh --runs-dir")
    try:
        run(config, args.record, args.results)
    except BenchmarkSkipped as skipped:
        print(f"{NAME}: skipped: {skipped}")
    except DataError as error:
        parser.exit(2, f"error: {error}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
