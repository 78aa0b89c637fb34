"""Training-step throughput of the reference VAEs, and how close it comes to the machine's matmul speed.

    python -m benchmarks.throughput [--record] [--models fc conv hvae] [--compile] [--device cpu]

One training step is what solutions.train runs per batch: the Objective's forward (per-image recon and KL
nats), the mean negative ELBO, backward, and an Adam step, on a batch of 128 random 8-bit images. Each model
is timed in up to three variants (median of several repeats after warm-up):

    eager          the module as solutions.train runs it
    channels_last  model and batch in NHWC memory order (convolutional models only), which oneDNN/cuDNN favour
    compile        torch.compile(objective): fused elementwise kernels; compiling costs a minute or two on a CPU

The FLOPs of one step (forward + backward convolutions and matmuls, as torch.utils.flop_counter counts them;
Adam's elementwise update is not counted) divided by its time give its GFLOP/s, compared with float32 square
matmuls measured in the same run (before the first model and after each; the best of them is the reference):
the fraction of the machine's dense-math speed the step achieves. Variants are timed in interleaved rounds, so
other work on a shared machine slows them alike.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import RESULTS_DIR, median, time_calls, write_result
from course_utils.devices import default_device
from solutions.train import TrainConfig, build_objective, training_step

NAME = "throughput"
VARIANTS = ("eager", "channels_last", "compile")
GOAL_FRACTION_OF_MATMUL = 0.6  # the training step should run at >= 60% of the float32 matmul GFLOP/s
CONVOLUTIONAL = {"conv", "hvae"}  # channels_last only changes models with convolutions


@dataclass
class ThroughputConfig:
    models: tuple[str, ...] = ("fc", "conv", "hvae")  # solutions.train.MODELS keys
    variants: tuple[str, ...] = ("eager", "channels_last")  # the record run adds "compile"
    batch_size: int = 128
    warmup: int = 2  # untimed steps first, at least 1 (compile happens in the first)
    repeats: int = 5  # timed steps; the median is reported
    matmul_sizes: tuple[int, ...] = (512, 1024)
    matmul_repeats: int = 20
    device: str | None = None  # None: CUDA when present, else CPU


QUICK = ThroughputConfig()
RECORD = ThroughputConfig(variants=VARIANTS, repeats=15, matmul_repeats=50)


def random_images(batch_size: int, device: torch.device, seed: int = 0) -> torch.Tensor:
    """A batch like the loader's: (B, 3, 32, 32) float32 multiples of 1/255 in [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (batch_size, 3, 32, 32), generator=generator) / 255).to(device)


class TrainingStep:
    """One training step of `model` in `variant` on a fixed batch of random images; call it to run the step.

    The model trains as solutions.train trains it: loss = mean over images of (recon + KL) nats, then Adam.
    """

    def __init__(self, model: str, variant: str, batch_size: int, device: torch.device):
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}: use one of {', '.join(VARIANTS)}")
        torch.manual_seed(0)
        self.objective = build_objective(TrainConfig(model=model)).to(device)
        self.optimizer = torch.optim.Adam(self.objective.parameters(), lr=1e-3)
        self.x = random_images(batch_size, device)  # (B, 3, 32, 32)
        self.forward = self.objective
        if variant == "channels_last":
            self.objective.to(memory_format=torch.channels_last)
            self.x = self.x.contiguous(memory_format=torch.channels_last)
        elif variant == "compile":
            self.forward = torch.compile(self.objective)

    def __call__(self) -> None:
        training_step(self.forward, self.optimizer, self.x, beta=1.0)


def step_flops(model: str, batch_size: int, device: torch.device) -> int:
    """FLOPs of one training step's forward and backward (convolutions and matmuls), counted by PyTorch."""
    step = TrainingStep(model, "eager", batch_size, device)
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def time_training_steps(model: str, variants, batch_size: int, device: torch.device, repeats: int,
                        warmup: int) -> dict[str, dict]:
    """Median seconds of one training step of `model` in each variant, and images per second.

    The repeats are interleaved (every round times each variant once), so a change in what else the machine is
    doing hits all variants alike. The first step is timed on its own: for "compile" it includes compiling.
    Outputs: {variant: {"seconds", "images_per_second", "all_seconds", "first_step_seconds"}}.
    """
    steps = {variant: TrainingStep(model, variant, batch_size, device) for variant in variants}
    first = {variant: time_calls(step, repeats=1, warmup=0, device=device)[0] for variant, step in steps.items()}
    for step in steps.values():
        time_calls(step, repeats=0, warmup=warmup - 1, device=device)
    seconds = {variant: [] for variant in steps}
    for _ in range(repeats):
        for variant, step in steps.items():
            seconds[variant] += time_calls(step, repeats=1, warmup=0, device=device)
    return {variant: {"seconds": median(s), "images_per_second": batch_size / median(s), "all_seconds": s,
                      "first_step_seconds": first[variant]} for variant, s in seconds.items()}


def matmul_gflops(size: int, repeats: int, device: torch.device) -> float:
    """float32 (size x size) @ (size x size) speed in GFLOP/s (2 size^3 FLOPs per product), median of repeats."""
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=generator).to(device) for _ in range(2))
    out = torch.empty(size, size, device=device)
    seconds = median(time_calls(lambda: torch.mm(a, b, out=out), repeats, warmup=3, device=device))
    return 2 * size**3 / seconds / 1e9


def applicable(model: str, variant: str) -> bool:
    return variant != "channels_last" or model in CONVOLUTIONAL


def run(config: ThroughputConfig = QUICK, record: bool = False, results_dir=None) -> dict:
    """Time every model and variant and the matmuls; print one line per model, then the summary line."""
    device = default_device(config.device)

    def measure_matmul() -> dict[int, float]:
        matmul = {size: matmul_gflops(size, config.matmul_repeats, device) for size in config.matmul_sizes}
        print("float32 matmul: " + ", ".join(f"{n}x{n} {g:.1f} GFLOP/s" for n, g in matmul.items()), flush=True)
        return matmul

    # The matmuls are timed before the first model and after each one; the best of all these is the reference,
    # so a busy moment during one measurement cannot flatter the training step.
    matmul_runs = [measure_matmul()]
    variants = dict.fromkeys(("eager",) + tuple(config.variants))  # eager is the baseline: always timed
    models = {}
    for model in config.models:
        flops = step_flops(model, config.batch_size, device)
        timings = time_training_steps(model, [v for v in variants if applicable(model, v)], config.batch_size,
                                      device, config.repeats, config.warmup)
        for timing in timings.values():
            timing["gflops"] = flops / timing["seconds"] / 1e9
        best = max(timings, key=lambda variant: timings[variant]["images_per_second"])
        speedup = timings[best]["images_per_second"] / timings["eager"]["images_per_second"]
        models[model] = {"flops_per_step": flops, "variants": timings, "best": best, "best_vs_eager": speedup}
        cells = ", ".join(f"{variant} {t['images_per_second']:.0f} img/s ({t['gflops']:.1f} GFLOP/s)"
                          for variant, t in timings.items())
        compiling = (f"; the first compiled step (compiling) took {timings['compile']['first_step_seconds']:.0f} s"
                     if "compile" in timings else "")
        print(f"{model}: {flops / 1e9:.1f} GFLOP per step; {cells}; fastest: {best} ({speedup:.2f}x eager){compiling}",
              flush=True)
        matmul_runs.append(measure_matmul())

    matmul = {size: max(run[size] for run in matmul_runs) for size in config.matmul_sizes}
    best_matmul = max(matmul.values())
    for m in models.values():
        m["fraction_of_matmul"] = m["variants"][m["best"]]["gflops"] / best_matmul
    results = {"device": str(device), "matmul_gflops": {str(n): g for n, g in matmul.items()},
               "best_matmul_gflops": best_matmul, "matmul_runs": [{str(n): g for n, g in run.items()}
                                                                  for run in matmul_runs], "models": models}
    summary = f"{NAME}: " + "; ".join(
        f"{model} {m['variants'][m['best']]['images_per_second']:.0f} img/s ({m['best']}, {m['best_vs_eager']:.2f}x "
        f"eager) = {m['fraction_of_matmul']:.0%} of matmul" for model, m in models.items()
    ) + (f" (goal >= {GOAL_FRACTION_OF_MATMUL:.0%}); matmul {best_matmul:.1f} GFLOP/s "
         f"(batch {config.batch_size}, {device})")
    payload = write_result(NAME, record, dataclasses.asdict(config), results, summary, results_dir, device)
    print(summary, flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="more repeats and torch.compile; writes *-record.json")
    parser.add_argument("--models", nargs="+", choices=QUICK.models, help="default: all three")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (in the quick run)")
    parser.add_argument("--device", help="cpu | cuda; default: CUDA when present")
    parser.add_argument("--results", default=str(RESULTS_DIR), help="folder for the JSON result")
    args = parser.parse_args(argv)
    config = RECORD if args.record else QUICK
    variants = VARIANTS if args.compile else config.variants
    config = dataclasses.replace(config, models=tuple(args.models or config.models), variants=variants,
                                 device=args.device)
    run(config, args.record, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
