"""Train a reference VAE on CIFAR-10 or CelebA.

    python -m solutions.train --dataset cifar10 --model conv --epochs 10 --out runs/cifar10-conv
    python -m solutions.train --out runs/cifar10-conv --resume          # continue a stopped run
    torchrun --nproc_per_node=2 -m solutions.train ...                  # DistributedDataParallel

One flow: build the model and the likelihood, stream batches from the in-memory uint8 cache, minimise
the negative ELBO (recon + beta * KL, in nats per image), evaluate the test split each epoch in bits per
dimension, and write an atomic checkpoint plus the metrics after every epoch. A run directory holds
config.json, checkpoint.pt, metrics.json and metrics.csv.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from course_utils.data import DataError, InMemoryLoader, load_cached
from course_utils.devices import autocast, default_device
from course_utils.files import atomic_write
from course_utils.seeding import seed_everything
from solutions.likelihoods import LIKELIHOODS, DiscretizedLogistic, bits_per_dim, negative_elbo
from solutions.hvae import HierarchicalVAE
from solutions.vae import ConvVAE, FCVAE

MODELS = {"conv": ConvVAE, "fc": FCVAE, "hvae": HierarchicalVAE}
DEFAULT_IMAGE_SIZE = {"cifar10": 32, "celeba": 64}
TEST_SPLIT = "test"


@dataclass
class TrainConfig:
    dataset: str = field(default="cifar10", metadata={"help": "cifar10 | celeba", "choices": ["cifar10", "celeba"]})
    model: str = field(default="conv", metadata={
        "help": "conv: the assignment's ConvVAE | fc: fully connected | hvae: hierarchical VAE, latents on 8x8 and "
                "16x16 grids and a per-pixel colour-coupled likelihood (solutions/hvae.py)",
        "choices": sorted(MODELS)})
    likelihood: str = field(default="logistic", metadata={
        "help": "logistic: discretized logistic, reports bits/dim | bernoulli: the assignment's BCE",
        "choices": sorted(LIKELIHOODS)})
    latent_dim: int = field(default=128, metadata={"help": "size D of the latent vector z"})
    widths: str | None = field(default=None, metadata={
        "help": "conv/hvae: comma-separated channels per resolution, e.g. 32,64,128 (default: the model's)"})
    image_size: int | None = field(default=None, metadata={"help": "32 or 64; default 32 for cifar10, 64 for celeba"})
    epochs: int = field(default=10, metadata={"help": "passes over the training split"})
    batch_size: int = field(default=128, metadata={"help": "images per optimizer step (per process under torchrun)"})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate (the peak, under a schedule)"})
    lr_schedule: str = field(default="constant", metadata={
        "help": "constant | cosine: decay the learning rate to 0 along a half cosine over the run, which ends with "
                "--epochs or --max-minutes, whichever comes first (Loshchilov & Hutter, 2017)",
        "choices": ["constant", "cosine"]})
    warmup_steps: int = field(default=0, metadata={"help": "raise the learning rate linearly over the first N steps"})
    grad_clip: float | None = field(default=None, metadata={
        "help": "clip the gradient's global norm to this value (the loss is in nats per image); metrics log the "
                "largest norm of each epoch"})
    beta: float = field(default=1.0, metadata={"help": "weight of the KL term; 1 is the ELBO, 0 a plain autoencoder"})
    kl_warmup_epochs: float = field(default=0.0, metadata={
        "help": "raise the KL weight linearly from 0 to beta over this many epochs (Bowman et al., 2016)"})
    seed: int = field(default=0, metadata={"help": "seeds data order, initialisation and sampling"})
    channels_last: bool = field(default=True, metadata={
        "help": "keep convolution activations in NHWC memory order, which oneDNN and cuDNN run fastest "
                "(benchmarks/throughput.py measures it)"})
    out: str = field(default="runs/default", metadata={"help": "run directory for checkpoint and metrics"})
    data_root: str | None = field(default=None, metadata={"help": "data folder; default $VAE_DATA_ROOT or ./data"})
    device: str | None = field(default=None, metadata={"help": "cpu | cuda | cuda:N; default: CUDA when present"})
    max_minutes: float | None = field(default=None, metadata={
        "help": "wall-clock training budget; the run evaluates and stops once it is spent"})
    limit: int | None = field(default=None, metadata={"help": "train on the first N images only (quick checks)"})
    eval_limit: int | None = field(default=None, metadata={"help": "evaluate on the first N test images only"})

    def __post_init__(self):
        self.image_size = self.image_size or DEFAULT_IMAGE_SIZE[self.dataset]


# How to train each model well within a fixed CPU budget: flags beyond TrainConfig's defaults, e.g.
# `python -m solutions.train --model hvae --max-minutes 30 --lr-schedule cosine ...`. benchmarks/quality.py trains
# with these and BENCHMARKS.md records what they reach.
RECIPES = {
    "conv": {"lr_schedule": "cosine"},
    "fc": {"lr_schedule": "cosine"},
    "hvae": {"lr_schedule": "cosine", "grad_clip": 1e4},
}

# Flags that may change when a stopped run is resumed; every other flag must match the saved run.
# A cosine schedule follows the run's length, so changing --epochs or --max-minutes on resume bends it from there on.
RESUMABLE = {"epochs", "max_minutes", "device", "data_root", "eval_limit"}


class TrainingDiverged(RuntimeError):
    pass


class Objective(nn.Module):
    """Model + likelihood as one module, so DDP and the optimizer see every parameter (the likelihood
    may own learned scales)."""

    def __init__(self, model: nn.Module, likelihood: nn.Module):
        super().__init__()
        self.model, self.likelihood = model, likelihood

    def forward(self, x):
        return negative_elbo(self.model, self.likelihood, x)  # (B,), (B,) nats


def training_step(trainer: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, beta: float,
                  grad_clip: float | None = None) -> tuple[float, float]:
    """One Adam step on the batch's negative ELBO (recon + beta * KL, mean nats per image).

    Outputs: (that loss, the gradient's global norm before clipping). grad_clip rescales the gradient to at most
    this norm first. A step whose loss or gradient is not finite is skipped, so the weights are never spoiled: a
    non-finite loss stops training (the caller checks), a non-finite gradient (an overflow in one rare batch)
    only costs that batch.
    """
    with autocast(x.device):
        recon, kl = trainer(x)  # (B,), (B,) nats
    loss = (recon + beta * kl).mean()
    if not torch.isfinite(loss):
        return loss.item(), math.nan
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = nn.utils.clip_grad_norm_(trainer.parameters(), grad_clip or math.inf).item()
    if math.isfinite(grad_norm):
        optimizer.step()
    return loss.item(), grad_norm


def build_objective(config: TrainConfig) -> Objective:
    options = {"widths": tuple(int(w) for w in config.widths.split(","))} if config.widths else {}
    model = MODELS[config.model](latent_dim=config.latent_dim, in_channels=3, image_size=config.image_size, **options)
    return Objective(model, LIKELIHOODS[config.likelihood]())


def learning_rate(config: TrainConfig, step: int, progress: float) -> float:
    """The learning rate for optimizer step `step` (0-based) when `progress` (0 to 1) of the run is done."""
    warmup = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
    if config.lr_schedule == "cosine":
        return config.lr * warmup * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return config.lr * warmup


def kl_weight(config: TrainConfig, epoch_progress: float) -> float:
    """beta, ramped up linearly over the first kl_warmup_epochs (epoch_progress counts fractional epochs)."""
    if config.kl_warmup_epochs <= 0:
        return config.beta
    return config.beta * min(1.0, epoch_progress / config.kl_warmup_epochs)


# ----------------------------------------------------------------------------------------------- files

def write_logs(out: Path, config: TrainConfig, history: list[dict]) -> None:
    atomic_write(out / "config.json", lambda f: f.write(json.dumps(dataclasses.asdict(config), indent=2).encode()))
    atomic_write(out / "metrics.json", lambda f: f.write(json.dumps(history, indent=2).encode()))

    def write_csv(f):
        columns = list(dict.fromkeys(key for row in history for key in row))
        lines = [",".join(columns)] + [",".join(str(row.get(c, "")) for c in columns) for row in history]
        f.write(("\n".join(lines) + "\n").encode())

    atomic_write(out / "metrics.csv", write_csv)


def train_command(config: dict, out: str | os.PathLike) -> str:
    """The solutions.train command line that reproduces a run: its dataset, model, epochs and every flag that
    differs from TrainConfig's defaults."""
    defaults = dataclasses.asdict(TrainConfig(dataset=config["dataset"]))
    always = ("dataset", "model", "epochs")
    skip = {"out", "device", "data_root"}

    def flag(key):
        name = key.replace("_", "-")
        if isinstance(config[key], bool):
            return f"--{name}" if config[key] else f"--no-{name}"
        return f"--{name} {config[key]}"

    flags = [flag(key) for key in config
             if key not in skip and (key in always or config[key] != defaults.get(key)) and config[key] is not None]
    return " ".join(["python -m solutions.train", *flags, f"--out {out}"])


def load_run(run_dir: str | os.PathLike, device="cpu") -> tuple[nn.Module, dict, list[dict]]:
    """Load a trained run for evaluation and figures.

    Outputs: (model in eval mode on `device`, config as a dict, per-epoch history rows).
    """
    path = Path(run_dir) / "checkpoint.pt"
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}: train it with `python -m solutions.train --out {run_dir}`")
    state = torch.load(path, map_location=device, weights_only=False)
    config = TrainConfig(**state["config"])
    objective = build_objective(config)
    objective.load_state_dict(state["objective"])
    return objective.model.to(device).eval(), state["config"], state["history"]


# ------------------------------------------------------------------------------------------ evaluation

def reconstruction(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The decoded posterior mean, (B, C, H, W): a hierarchical model uses the posterior mean at every level."""
    if hasattr(model, "reconstruct"):
        return model.reconstruct(x)
    mu, _ = model.encode(x)
    return model.decode(mu)


@torch.no_grad()
def evaluate(objective: Objective, loader: InMemoryLoader, device: torch.device) -> dict:
    """Test metrics, averaged per image: the negative ELBO (in bits/dim when the likelihood is a distribution
    over 8-bit images), its two terms in nats, and the MSE of the decoded posterior mean (a likelihood-free
    reconstruction error that every model can be compared on)."""
    objective.eval()
    totals = torch.zeros(4, dtype=torch.float64, device=device)  # recon nats, kl nats, squared error, images
    dims = None
    for x, _ in loader:
        with autocast(device):
            recon, kl = objective(x)
            x_mean = reconstruction(objective.model, x)
        dims = x[0].numel()
        squared_error = (x_mean.float() - x).pow(2).flatten(1).mean(1)
        totals += torch.stack([recon.sum(), kl.sum(), squared_error.sum(), torch.tensor(len(x), device=device)]).double()
    if dist.is_initialized():
        dist.all_reduce(totals)
    recon, kl, squared_error, count = totals.tolist()
    objective.train()
    metrics = {"test_nelbo": (recon + kl) / count, "test_recon": recon / count, "test_kl": kl / count,
               "test_recon_mse": squared_error / count}
    if isinstance(objective.likelihood, DiscretizedLogistic):
        metrics["test_bpd"] = bits_per_dim(metrics["test_nelbo"], dims)
    return metrics


def describe(row: dict) -> str:
    bpd = f"{row['test_bpd']:.3f} bits/dim, " if "test_bpd" in row else ""
    return (f"test {bpd}-ELBO {row['test_nelbo']:.0f} nats (recon {row['test_recon']:.0f} + KL {row['test_kl']:.0f}), "
            f"MSE {row['test_recon_mse']:.4f}")


def check_ranks_in_sync(objective: nn.Module) -> None:
    """DDP keeps replicas identical by averaging gradients; verify it (cheap, once an epoch)."""
    flat = torch.cat([p.detach().flatten() for p in objective.parameters()])
    reference = flat.clone()
    dist.broadcast(reference, src=0)
    drift = (flat - reference).abs().max()
    dist.all_reduce(drift, op=dist.ReduceOp.MAX)
    if drift.item() > 0:
        raise RuntimeError(f"DDP replicas drifted apart by {drift.item():.3g}: gradients are not being synchronised")


# -------------------------------------------------------------------------------------------- training

def train(config: TrainConfig, resume: bool = False) -> list[dict]:
    """Train (or continue) the run in config.out and return its per-epoch history."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, world_size = 0, 1
    if distributed:
        device = torch.device(f"cuda:{int(os.environ['LOCAL_RANK'])}") if torch.cuda.is_available() else torch.device("cpu")
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        rank, world_size = dist.get_rank(), dist.get_world_size()
        if device.type == "cuda":
            torch.cuda.set_device(device)
    else:
        device = default_device(config.device)
    is_main = rank == 0
    out = Path(config.out)
    checkpoint_path = out / "checkpoint.pt"

    seed_everything(config.seed)
    objective = build_objective(config).to(device)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    objective.to(memory_format=memory_format)
    optimizer = torch.optim.Adam(objective.parameters(), lr=config.lr)
    history, start_epoch, step, seconds = [], 0, 0, 0.0
    if resume and checkpoint_path.exists():
        state = torch.load(checkpoint_path, map_location=device, weights_only=False)
        objective.load_state_dict(state["objective"])
        optimizer.load_state_dict(state["optimizer"])
        history, start_epoch, step, seconds = state["history"], state["epoch"], state["step"], state["seconds"]
        torch.set_rng_state(state["rng_cpu"])
        if device.type == "cuda" and state.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(state["rng_cuda"], device)
        if is_main:
            print(f"resuming {out} after epoch {start_epoch} (step {step}, {seconds / 60:.1f} min trained)")

    if distributed and not is_main:
        dist.barrier()  # wait for rank 0 to build any missing cache, then read it
    train_split = load_cached(config.dataset, config.data_root, "train", config.image_size, progress=is_main)
    test_split = load_cached(config.dataset, config.data_root, TEST_SPLIT, config.image_size, progress=is_main)
    if distributed and is_main:
        dist.barrier()
    train_loader = InMemoryLoader(train_split, config.batch_size, shuffle=True, drop_last=True, seed=config.seed,
                                  device=device, rank=rank, world_size=world_size, limit=config.limit)
    test_loader = InMemoryLoader(test_split, 500, shuffle=False, drop_last=False, device=device,
                                 rank=rank, world_size=world_size, limit=config.eval_limit)
    if len(train_loader) == 0:
        raise DataError(f"{len(train_split.images)} training images give no full batch of {config.batch_size}: "
                        "lower --batch-size or raise --limit")
    trainer = nn.parallel.DistributedDataParallel(objective) if distributed else objective
    budget_seconds = config.max_minutes * 60 if config.max_minutes else math.inf
    total_steps = config.epochs * len(train_loader)

    def save_checkpoint(epoch: int) -> None:
        state = {"config": dataclasses.asdict(config), "objective": objective.state_dict(),
                 "optimizer": optimizer.state_dict(), "epoch": epoch, "step": step, "seconds": seconds,
                 "history": history, "rng_cpu": torch.get_rng_state(),
                 "rng_cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}
        atomic_write(checkpoint_path, lambda f: torch.save(state, f))
        write_logs(out, config, history)

    for epoch in range(start_epoch, config.epochs):
        if seconds >= budget_seconds:
            break
        train_loader.set_epoch(epoch)
        total_loss, total_images, largest_grad_norm, skipped_steps = 0.0, 0, 0.0, 0
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not is_main, leave=False)
        for batch_index, (x, _) in enumerate(bar):
            started = time.perf_counter()
            x = x.contiguous(memory_format=memory_format)
            beta = kl_weight(config, epoch + batch_index / len(train_loader))
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, step, max(step / total_steps, seconds / budget_seconds))
            loss, grad_norm = training_step(trainer, optimizer, x, beta, config.grad_clip)
            if not math.isfinite(loss):
                raise TrainingDiverged(
                    f"loss became {loss} at epoch {epoch + 1}, step {step}; the last good checkpoint "
                    f"(epoch {start_epoch if not history else history[-1]['epoch']}) is kept in {out}. "
                    "Lower --lr or add --kl-warmup-epochs, then --resume or start a new --out")
            step += 1
            if math.isfinite(grad_norm):
                largest_grad_norm = max(largest_grad_norm, grad_norm)
            else:
                skipped_steps += 1
            total_loss += loss * len(x)
            total_images += len(x)
            seconds += time.perf_counter() - started
            bar.set_postfix(loss=f"{loss:.1f}")
            if seconds >= budget_seconds:
                break
        row = {"epoch": epoch + 1, "epochs_trained": round(epoch + (batch_index + 1) / len(train_loader), 2),
               "step": step, "seconds": round(seconds, 2),
               "train_loss": total_loss / total_images, "beta": beta, "lr": optimizer.param_groups[0]["lr"],
               "grad_norm_max": largest_grad_norm, "skipped_steps": skipped_steps,
               **evaluate(objective, test_loader, device)}
        if distributed:
            check_ranks_in_sync(objective)
            row["ranks_in_sync"] = True
        history.append(row)
        if is_main:
            save_checkpoint(epoch + 1)
            tqdm.write(f"epoch {epoch + 1}: {describe(row)}, {seconds / 60:.1f} min")
    if distributed:
        dist.destroy_process_group()
    return history


# ------------------------------------------------------------------------------------------------- CLI

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m solutions.train", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for f in dataclasses.fields(TrainConfig):
        flag, help_text = f"--{f.name.replace('_', '-')}", f"{f.metadata['help']} (default: {f.default})"
        if f.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text)
            continue
        kind = {"int": int, "float": float}.get(str(f.type).split(" ")[0], str)
        parser.add_argument(flag, type=kind, default=argparse.SUPPRESS, choices=f.metadata.get("choices"),
                            help=help_text)
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    return parser


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[TrainConfig, bool]:
    given = {k: v for k, v in vars(args).items() if k != "resume"}
    out = Path(given.get("out", TrainConfig.out))
    checkpoint = out / "checkpoint.pt"
    if args.resume and checkpoint.exists():
        saved = json.loads((out / "config.json").read_text())
        conflicts = [k for k, v in given.items() if k not in RESUMABLE and k != "out" and v != saved.get(k)]
        if conflicts:
            flags = ", ".join(f"--{k.replace('_', '-')} {given[k]} (saved: {saved.get(k)})" for k in conflicts)
            parser.error(f"{flags}: a resumed run keeps its settings; drop these flags or choose a new --out")
        return TrainConfig(**{**saved, **given}), True
    if checkpoint.exists() and not args.resume:
        parser.error(f"{out} already holds a run: pass --resume to continue it, or choose another --out")
    return TrainConfig(**given), False


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config, resume = config_from_args(args, parser)
    if config.dataset == "cifar10" and config.image_size != 32:
        parser.error("CIFAR-10 images are 32x32: drop --image-size or use --image-size 32")
    if config.grad_clip is not None and config.grad_clip <= 0:
        parser.error(f"--grad-clip {config.grad_clip}: a gradient norm limit must be positive (or leave it out)")
    if config.warmup_steps < 0:
        parser.error(f"--warmup-steps {config.warmup_steps}: give a number of steps, 0 or more")
    if config.widths and config.model == "fc":
        parser.error("--widths sets convolutional channels: drop it for --model fc")
    if config.model == "hvae" and config.likelihood != "logistic":
        parser.error("--model hvae carries its own discretized logistic decoder: use --likelihood logistic")
    try:
        history = train(config, resume=resume)
    except (DataError, TrainingDiverged) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if isinstance(error, DataError) else 1
    except KeyboardInterrupt:
        print(f"\ninterrupted: `python -m solutions.train --out {config.out} --resume` continues from the last "
              "completed epoch", file=sys.stderr)
        return 130
    if history and int(os.environ.get("RANK", "0")) == 0:
        last = history[-1]
        print(f"done: {config.out} after {last['epoch']} epochs, {last['seconds'] / 60:.1f} min: {describe(last)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
