"""Test bits/dim reached within a wall-clock budget on real CIFAR-10, model by model, against published numbers.

    python -m benchmarks.quality [--record] [--minutes 1 ...] [--resnet] [--data-root DIR]

Each model (TrainConfig defaults, as `python -m solutions.train --model M` trains it, discretized logistic
likelihood) trains through solutions.train.train under `max_minutes`. solutions.train evaluates the whole test
split after every epoch and once more when the budget is spent, so every budget gets an exact evaluation and the
epochs in between fill in the curve. Several budgets (the record run: 10 and 30 minutes) are one run, resumed from
its checkpoint with the next budget; the minutes count training steps only, not evaluation. solutions.train
checkpoints at epoch ends, so a resumed budget starts a fresh epoch and the rest of the interrupted one is not seen
(training simply continues on the next random order). More budgets, e.g. `--minutes 1 2 5 10 20 30`, give a denser
curve on a slow machine where an epoch takes many minutes.
"""
from __future__ import annotations

import argparse
import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import RESULTS_DIR, BenchmarkSkipped, write_result
from course_utils.data import DataError, load_cached, resolve_data_root
from course_utils.devices import default_device
from solutions.train import TrainConfig, train

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
    models: tuple[str, ...] = ("conv", "fc")  # the record run adds "resnet" with --resnet
    minutes: tuple[float, ...] = (1.0,)  # training budgets, one resumed run per model
    batch_size: int = 128
    data_root: str | None = None  # None: $VAE_DATA_ROOT or ./data
    limit: int | None = None  # train on the first N images only (smoke tests)
    eval_limit: int | None = None  # evaluate on the first N test images only (smoke tests)
    device: str | None = None
    seed: int = 0


QUICK = QualityConfig()
RECORD = QualityConfig(minutes=(10.0, 30.0))


def train_with_budgets(model: str, config: QualityConfig, out: Path) -> tuple[list[dict], dict[float, dict]]:
    """Train `model` up to each budget in turn (one run, resumed). Outputs: (every evaluation row,
    {budget in minutes: the evaluation row at the end of that budget})."""
    at_budget = {}
    for minutes in sorted(config.minutes):
        run_config = TrainConfig(dataset="cifar10", model=model, epochs=ENOUGH_EPOCHS, batch_size=config.batch_size,
                                 seed=config.seed, out=str(out), data_root=config.data_root, device=config.device,
                                 max_minutes=minutes, limit=config.limit, eval_limit=config.eval_limit)
        history = train(run_config, resume=True)
        at_budget[minutes] = history[-1]
    return history, at_budget


def bpd_at(minutes: float, history: list[dict], at_budget: dict[float, dict]) -> float | None:
    """Test bits/dim after `minutes` of training: the budget's own evaluation, else the latest epoch's before it."""
    if minutes in at_budget:
        return at_budget[minutes]["test_bpd"]
    earlier = [row for row in history if row["seconds"] <= minutes * 60]
    return earlier[-1]["test_bpd"] if earlier else None


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
    longest = max(config.minutes)
    marks = sorted({m for m in MARKS if m < longest} | set(config.minutes))
    models, curves = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as scratch:
        for model in config.models:
            print(f"quality: training {model} for {longest:g} min (budgets {', '.join(map(str, config.minutes))})",
                  flush=True)
            history, at_budget = train_with_budgets(model, config, Path(scratch) / model)
            curves[model] = {m: bpd_at(m, history, at_budget) for m in marks}
            models[model] = {"history": history, "at_budget": {str(m): row for m, row in at_budget.items()},
                             "curve": {str(m): bpd for m, bpd in curves[model].items()}}
    print(table(curves))
    print("published / reference test bits/dim: " + "; ".join(f"{what} {bpd}" for what, bpd in ANCHORS))
    results = {"data_root": str(root), "marks_minutes": marks, "models": models, "anchors": dict(ANCHORS)}
    summary = (f"{NAME}: after {longest:g} min " + ", ".join(
        f"{model} {curves[model][longest]:.3f}" for model in curves) +
        f" bits/dim (goal <= {GOAL_BPD} within {GOAL_MINUTES} min; published conv VAE {ANCHORS[0][1]})")
    payload = write_result(NAME, record, dataclasses.asdict(config), results, summary, results_dir,
                           default_device(config.device))
    print(summary, flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true",
                        help="budgets of 10 and 30 minutes; writes quality-record.json")
    parser.add_argument("--minutes", type=float, nargs="+",
                        help="training budgets in minutes (default: 1; record: 10 30)")
    parser.add_argument("--resnet", action="store_true", help="also train the residual VAE (--model resnet)")
    parser.add_argument("--data-root", help="default: $VAE_DATA_ROOT or ./data")
    parser.add_argument("--device", help="cpu | cuda; default: CUDA when present")
    parser.add_argument("--results", default=str(RESULTS_DIR), help="folder for the JSON result")
    args = parser.parse_args(argv)
    config = RECORD if args.record else QUICK
    if args.minutes and min(args.minutes) <= 0:
        parser.error("--minutes must be positive")
    config = dataclasses.replace(config, minutes=tuple(args.minutes or config.minutes), data_root=args.data_root,
                                 device=args.device, models=config.models + (("resnet",) if args.resnet else ()))
    try:
        run(config, args.record, args.results)
    except BenchmarkSkipped as skipped:
        print(f"{NAME}: skipped: {skipped}")
    except DataError as error:
        parser.exit(2, f"error: {error}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
