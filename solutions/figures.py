"""Draw the book's figures from trained runs and the theory experiments.

    python -m solutions.figures                                  # every figure whose inputs exist
    python -m solutions.figures --only celeba_samples q2_gradient_variance
    python -m solutions.figures --quick --out /tmp/figures       # tiny theory experiments (seconds)

Run figures load runs/<name>/ (trained with `python -m solutions.train`) and the test split of the real data;
theory figures (q1-q4) train their own small models in solutions.experiments. A figure whose run or data is
missing is skipped with a one-line note saying how to make it. The numbers behind the figures (run metrics,
bits/dim, experiment tables) are merged into <out>/metrics.json, from which the book's captions read them.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # files only: no display needed, and no GUI backend warnings on headless machines

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils.data import CachedSplit, DataError, load_cached  # noqa: E402
from course_utils.devices import default_device  # noqa: E402
from course_utils.plotting import book_style, image_rows, save_figure, show_grid  # noqa: E402
from solutions import experiments  # noqa: E402
from solutions.explore import (apply_direction, attribute_direction, latent_means, most_active_dims,  # noqa: E402
                               pca_2d, sample_near, sample_prior, traverse)
from solutions.interpolate import interpolation_grid, lerp, slerp  # noqa: E402
from solutions.train import RECIPES, TrainConfig, load_run, train_command  # noqa: E402

SEED = 0  # every figure draws its images and noise from generators seeded with this

# The runs the book shows, and the command that makes each (the Makefile's `make train TRAIN_ARGS=...`).
RUN_COMMANDS = {
    "cifar10-conv": "python -m solutions.train --dataset cifar10 --model conv --epochs 3 --out {runs}/cifar10-conv",
    "cifar10-fc": "python -m solutions.train --dataset cifar10 --model fc --epochs 3 --out {runs}/cifar10-fc",
    "celeba-conv": "python -m solutions.train --dataset celeba --model conv --epochs 5 --out {runs}/celeba-conv",
    "cifar10-hvae": train_command(dataclasses.asdict(TrainConfig(model="hvae", epochs=100, max_minutes=30,
                                                                 **RECIPES["hvae"])), "{runs}/cifar10-hvae"),
}
QUALITY_RECORD = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "quality-record.json"


class MissingInput(Exception):
    """A figure's run or data is absent; the message is the one-line note printed when skipping it."""


class FiguresError(Exception):
    """Bad command-line input; printed as `error: ...` with exit status 2."""


@dataclass
class Run:
    name: str
    model: nn.Module
    config: dict
    history: list[dict]


@dataclass
class Context:
    """What every figure function needs: where runs and data are, where to write, and caches of both."""

    runs_dir: Path
    out: Path
    data_root: str | None
    device: torch.device
    quick: bool
    quality_record: Path = QUALITY_RECORD  # benchmarks.quality's record result, for the quality-per-minute figure
    loaded_runs: dict = field(default_factory=dict)  # run name -> Run, each loaded once
    _splits: dict = field(default_factory=dict)

    def run(self, name: str) -> Run:
        if name not in self.loaded_runs:
            run_dir = self.runs_dir / name
            if not (run_dir / "checkpoint.pt").is_file():
                command = RUN_COMMANDS[name].format(runs=self.runs_dir)
                raise MissingInput(f"{run_dir} is missing; make it with: {command}")
            try:
                model, config, history = load_run(run_dir, device=self.device)
            except (RuntimeError, KeyError, TypeError, EOFError, pickle.UnpicklingError) as error:
                raise MissingInput(f"{run_dir}/checkpoint.pt cannot be loaded ({type(error).__name__}: "
                                   f"{' '.join(str(error).split())[:120]}); retrain it with: "
                                   f"{RUN_COMMANDS[name].format(runs=self.runs_dir)}") from None
            if not history:
                raise MissingInput(f"{run_dir} has no finished epoch yet; let `python -m solutions.train "
                                   f"--out {run_dir} --resume` complete one")
            self.loaded_runs[name] = Run(name, model, config, history)
        return self.loaded_runs[name]

    def test_split(self, dataset: str, image_size: int | None = None) -> CachedSplit:
        key = (dataset, image_size)
        if key not in self._splits:
            try:
                self._splits[key] = load_cached(dataset, self.data_root, "test", image_size, progress=False)
            except DataError as error:
                raise MissingInput(f"needs the {dataset} test images: {error}") from None
        return self._splits[key]

    def test_images(self, run: Run) -> tuple[torch.Tensor, CachedSplit]:
        """The run's test split as floats (N, 3, S, S) in [0, 1], and the split (for labels and names)."""
        split = self.test_split(run.config["dataset"], run.config["image_size"])
        return split.images.float() / 255, split

    def count(self, full: int, quick: int) -> int:
        return quick if self.quick else full


def run_metrics(run: Run, runs_dir: Path) -> dict:
    """One metrics.json entry per run: what was trained, for how long, and how well (last epoch)."""
    last = run.history[-1]
    return {"dataset": run.config["dataset"], "model": run.config["model"], "latent_dim": run.config["latent_dim"],
            "likelihood": run.config["likelihood"], "beta": run.config["beta"], "epochs": last["epochs_trained"],
            "train_minutes": last["seconds"] / 60,
            **{key: last[key] for key in ("test_bpd", "test_nelbo", "test_recon_mse", "test_kl") if key in last},
            # the epochs actually trained: a run may be stopped (and resumed) before its planned --epochs
            "command": train_command({**run.config, "epochs": last["epoch"]}, runs_dir / run.name)}


def bpd_title(run: Run) -> str:
    last = run.history[-1]
    bpd = f"{last['test_bpd']:.2f} bits/dim" if "test_bpd" in last else f"-ELBO {last['test_nelbo']:.0f} nats"
    return f"{bpd}, {last['epochs_trained']:g} epochs"


def picked(count: int, available: int, seed: int = SEED) -> list[int]:
    """`count` distinct random indices below `available` (fewer when there are not enough)."""
    return torch.randperm(available, generator=torch.Generator().manual_seed(seed))[:count].tolist()


def _generator() -> torch.Generator:
    return torch.Generator().manual_seed(SEED)


# ------------------------------------------------------------------------------------------- CIFAR-10

def cifar10_fc_vs_conv_samples(ctx: Context) -> dict:
    fc, conv = ctx.run("cifar10-fc"), ctx.run("cifar10-conv")
    with book_style():
        fig, axes = plt.subplots(1, 2, figsize=(7.4, 3.9))
        for ax, run, name in zip(axes, (fc, conv), ("fully connected VAE", "convolutional VAE")):
            show_grid(sample_prior(run.model, 64, generator=_generator()).cpu(), nrow=8, ax=ax,
                      title=f"{name}\n{bpd_title(run)}")
        fig.suptitle("CIFAR-10: decoder means of z ~ N(0, I), the same z for both", y=0.99)
        save_figure(fig, ctx.out / "cifar10_fc_vs_conv_samples.png")
    return {}


def cifar10_fc_vs_conv_recon(ctx: Context) -> dict:
    fc, conv = ctx.run("cifar10-fc"), ctx.run("cifar10-conv")
    images, _ = ctx.test_images(conv)
    x = images[picked(10, len(images))]
    rows, labels, mse = [x], ["test image"], {}
    for run, name in ((fc, "fc"), (conv, "conv")):
        recon = experiments.decode_all(run.model, latent_means(run.model, x))
        mse[name] = run.history[-1]["test_recon_mse"]
        rows.append(recon)
        labels.append(f"{name.upper()} VAE\nMSE {mse[name]:.4f}")
    with book_style():
        ax = image_rows(rows, labels, image_inches=0.65)
        ax.set_title("CIFAR-10 test images and their reconstructions decode(μ(x)) (MSE over the whole test set)")
        save_figure(ax.figure, ctx.out / "cifar10_fc_vs_conv_recon.png")
    return {}


def cifar10_bpd_curves(ctx: Context) -> dict:
    runs = [ctx.run("cifar10-fc"), ctx.run("cifar10-conv")]
    if any("test_bpd" not in run.history[-1] for run in runs):
        raise MissingInput("needs runs trained with the discretized logistic likelihood (--likelihood logistic)")
    with book_style():
        fig, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(7.4, 2.9), sharey=True)
        for run, colour, name in zip(runs, ("C1", "C0"), ("fully connected", "convolutional")):
            bpd = [row["test_bpd"] for row in run.history]
            label = f"{name}: {bpd[-1]:.2f}"
            by_epoch.plot([row["epochs_trained"] for row in run.history], bpd, "o-", color=colour, markersize=3, label=label)
            by_time.plot([row["seconds"] / 60 for row in run.history], bpd, "o-", color=colour, markersize=3,
                         label=label)
        by_epoch.set(xlabel="epoch", ylabel="test bits/dim (lower is better)", title="(a) per epoch")
        by_time.set(xlabel="training minutes", title="(b) per minute of training")
        by_epoch.legend(frameon=False, title="final bits/dim")
        fig.suptitle("CIFAR-10 negative ELBO on the test set", y=1.0)
        fig.tight_layout()
        save_figure(fig, ctx.out / "cifar10_bpd_curves.png")
    return {}


def cifar10_hvae_levels(ctx: Context) -> dict:
    run = ctx.run("cifar10-hvae")
    images, _ = ctx.test_images(run)
    x = images[picked(10, len(images))].to(ctx.device)
    with torch.no_grad():
        rows = [x, *(run.model.reconstruct(x, levels) for levels in (1, 2))]
        measured = images[:ctx.count(2000, 100)].to(ctx.device)
        kl = {f"kl_{level}": cost.mean().item() for level, cost in run.model.kl_per_level(measured).items()}
    labels = ["test image", "z₈ from x,\nz₁₆ its prior mean", "z₈ and z₁₆\nfrom x"]
    with book_style():
        ax = image_rows([row.cpu() for row in rows], labels, image_inches=0.65)
        ax.set_title(f"Hierarchical VAE ({bpd_title(run)}): what each level of latents keeps of a test image")
        save_figure(ax.figure, ctx.out / "cifar10_hvae_levels.png")
    return {"cifar10_hvae_levels": {**kl, "images": len(measured)}}


def cifar10_hvae_samples(ctx: Context) -> dict:
    run = ctx.run("cifar10-hvae")
    z = torch.randn(64, run.model.latent_dim, generator=_generator()).to(ctx.device)
    with book_style():
        fig, axes = plt.subplots(1, 2, figsize=(7.4, 3.9))
        for ax, temperature in zip(axes, (0.0, 1.0)):
            torch.manual_seed(SEED)  # the lower levels' noise
            with torch.no_grad():
                samples = run.model.decode(z, temperature=temperature).cpu()
            lower = "its prior mean" if temperature == 0 else "sampled from its prior"
            show_grid(samples, nrow=8, ax=ax, title=f"z₈ ~ N(0, I), z₁₆\n{lower}")
        fig.suptitle(f"Hierarchical VAE samples, the same z₈ in both ({bpd_title(run)})", y=0.99)
        save_figure(fig, ctx.out / "cifar10_hvae_samples.png")
    return {}


def cifar10_quality_per_minute(ctx: Context) -> dict:
    """Test bits/dim against training minutes, every model of the quality benchmark's record run."""
    if not ctx.quality_record.is_file():
        raise MissingInput(f"{ctx.quality_record} is missing; make it with: python -m benchmarks.quality --record")
    record = json.loads(ctx.quality_record.read_text())
    names = {"hvae": "hierarchical VAE", "conv": "conv VAE (the assignment's)", "fc": "fully connected VAE"}
    summary = {}
    with book_style():
        fig, ax = plt.subplots(figsize=(7.4, 3.4))
        for colour, (model, result) in zip(("C2", "C0", "C1"), record["results"]["models"].items()):
            history = result["history"]
            ax.plot([row["seconds"] / 60 for row in history], [row["test_bpd"] for row in history], "o-",
                    color=colour, markersize=3, label=f"{names.get(model, model)}")
            budgets = {float(minutes): row for minutes, row in result["at_budget"].items()}
            ax.plot([row["seconds"] / 60 for row in budgets.values()], [row["test_bpd"] for row in budgets.values()],
                    "*", color=colour, markersize=10)
            summary[model] = {f"bpd_{minutes:g}min": row["test_bpd"] for minutes, row in budgets.items()}
            summary[model]["command"] = result["command"]
        published = record["results"]["anchors"]["conv VAE, published"]  # "4.51-4.54"
        best = float(published.split("-")[0])
        ax.axhline(best, color="0.5", linestyle="--", linewidth=1)
        ax.text(0.01, best + 0.03, f"published conv VAE, {published} (about 250k GPU steps)", color="0.4",
                fontsize=8, va="bottom", transform=ax.get_yaxis_transform())  # x in axes fractions, y in bits/dim
        ax.set(xlabel="training minutes (2 CPU cores)", ylabel="test bits/dim (lower is better)",
               title="CIFAR-10: the bound on the test set while training (stars: the end of each budget's own run)")
        ax.legend(frameon=False)
        save_figure(fig, ctx.out / "cifar10_quality_per_minute.png")
    machine = record["machine"]
    return {"quality_record": {**summary, "cpu": machine["cpu"], "cores": machine["cores"],
                               "date": machine["date"][:10]}}


def framed_interpolations(model: nn.Module, pairs: list[tuple[torch.Tensor, torch.Tensor]], steps: int,
                          method: str = "linear", show_inputs: bool = True) -> list[torch.Tensor]:
    """One row per pair: the decoded path between the two codes, between the two input images if show_inputs.

    CelebA figures pass show_inputs=False: its licence forbids redistributing the photos, so they show
    decoded images only.
    """
    paths = interpolation_grid(model, pairs, steps, method).cpu().split(steps)  # P x (steps, C, H, W)
    if not show_inputs:
        return list(paths)
    return [torch.cat([x1[None], path, x2[None]]) for (x1, x2), path in zip(pairs, paths)]


def interpolation_columns(steps: int, show_inputs: bool = True) -> list[str]:
    path = [f"t={t:.2g}" for t in torch.linspace(0, 1, steps).tolist()]
    return ["image 1", *path, "image 2"] if show_inputs else path


def cifar10_interp_linear_vs_slerp(ctx: Context) -> dict:
    run = ctx.run("cifar10-conv")
    images, _ = ctx.test_images(run)
    pairs = [tuple(images[picked(2, len(images), seed=SEED + k)]) for k in range(2)]
    steps = 10
    mu = latent_means(run.model, torch.stack([x for pair in pairs for x in pair]))  # (4, D)
    ends = mu.view(2, 2, -1)  # (pair, end, D)
    norms = {"endpoint": mu.norm(dim=1).mean().item(), "typical_prior": run.model.latent_dim ** 0.5,
             "lerp_midpoint": sum(lerp(a, b, 3)[1].norm().item() for a, b in ends) / 2,
             "slerp_midpoint": sum(slerp(a, b, 3)[1].norm().item() for a, b in ends) / 2}
    rows, labels = [], []
    for k, pair in enumerate(pairs):
        for method in ("linear", "slerp"):
            rows += framed_interpolations(run.model, [pair], steps, method)
            labels.append(f"pair {k + 1}, {'lerp' if method == 'linear' else 'slerp'}")
    with book_style():
        ax = image_rows(rows, labels, col_labels=interpolation_columns(steps), image_inches=0.62)
        ax.set_title(f"Conv VAE, CIFAR-10: |z| at the midpoint {norms['lerp_midpoint']:.1f} (lerp) vs "
                     f"{norms['slerp_midpoint']:.1f} (slerp); endpoints {norms['endpoint']:.1f}, "
                     f"prior samples ≈ √D = {norms['typical_prior']:.1f}", fontsize=9)
        save_figure(ax.figure, ctx.out / "cifar10_interp_linear_vs_slerp.png")
    return {"cifar10_interp_linear_vs_slerp": {"norm_" + k: v for k, v in norms.items()}}


def _class_pairs(split: CachedSplit, same_class: bool, count: int) -> list[tuple[int, int, str]]:
    """Index pairs of test images from the same class (one per class) or from different classes."""
    generator = torch.Generator().manual_seed(SEED)
    by_class = [torch.nonzero(split.targets == c).flatten() for c in range(len(split.classes))]
    by_class = [members[torch.randperm(len(members), generator=generator)] for members in by_class]
    pairs = []
    for k in range(count):
        a = k % len(by_class)
        b = a if same_class else (a + 1 + k) % len(by_class)
        if len(by_class[a]) < 2 or len(by_class[b]) < 2:
            continue
        i, j = by_class[a][k // len(by_class)], by_class[b][1 + k // len(by_class)]
        name = split.classes[a] if same_class else f"{split.classes[a]} → {split.classes[b]}"
        pairs.append((int(i), int(j), name))
    return pairs


def _class_interpolation(ctx: Context, same_class: bool, filename: str) -> dict:
    run = ctx.run("cifar10-conv")
    images, split = ctx.test_images(run)
    pairs = _class_pairs(split, same_class, 6)
    if not pairs:
        raise MissingInput("the test split has too few images per class")
    steps = 10
    image_pairs = [(images[i], images[j]) for i, j, _ in pairs]
    with book_style():
        ax = image_rows(framed_interpolations(run.model, image_pairs, steps), [name for _, _, name in pairs],
                        col_labels=interpolation_columns(steps), image_inches=0.62)
        kind = "the same class" if same_class else "different classes"
        ax.set_title(f"Conv VAE, CIFAR-10: lerp between the codes of test images of {kind}", pad=16)
        save_figure(ax.figure, ctx.out / filename)
    return {}


def cifar10_interp_within_class(ctx: Context) -> dict:
    return _class_interpolation(ctx, True, "cifar10_interp_within_class.png")


def cifar10_interp_across_class(ctx: Context) -> dict:
    return _class_interpolation(ctx, False, "cifar10_interp_across_class.png")


def cifar10_latent_pca(ctx: Context) -> dict:
    run = ctx.run("cifar10-conv")
    images, split = ctx.test_images(run)
    mu = latent_means(run.model, images)  # (N, D)
    projected = pca_2d(mu)  # (N, 2)
    centred = mu - mu.mean(0)
    explained = (projected.var(0).sum() / centred.var(0).sum()).item()
    shown = picked(ctx.count(5000, len(mu)), len(mu))
    with book_style():
        fig, ax = plt.subplots(figsize=(5.6, 4.4))
        colours = experiments.CLASS_COLOURS
        ax.scatter(projected[shown, 0].numpy(), projected[shown, 1].numpy(), s=2, alpha=0.6,
                   c=[colours(label) for label in split.targets[shown].tolist()])
        for label, name in enumerate(split.classes):  # class means, large, so the layout of classes reads at once
            centre = projected[split.targets == label].mean(0)
            ax.scatter([centre[0].item()], [centre[1].item()], s=70, color=colours(label), edgecolors="black",
                       linewidths=1, zorder=3)
        handles = [plt.Line2D([], [], marker="o", linestyle="", color=colours(i), label=name)
                   for i, name in enumerate(split.classes)]
        handles.append(plt.Line2D([], [], marker="o", linestyle="", color="white", markeredgecolor="black",
                                  markersize=8, label="class mean"))
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        ax.set(xlabel="principal component 1", ylabel="principal component 2", aspect="equal",
               title=f"Conv VAE, CIFAR-10: posterior means of {len(shown):,} test images\n"
                     f"first two principal components ({100 * explained:.0f}% of the variance)")
        save_figure(fig, ctx.out / "cifar10_latent_pca.png")
    return {"cifar10_latent_pca": {"explained_variance_2d": explained, "images": len(mu)}}


# --------------------------------------------------------------------------------------------- CelebA

def celeba_samples(ctx: Context) -> dict:
    run = ctx.run("celeba-conv")
    with book_style():
        ax = show_grid(sample_prior(run.model, 48, generator=_generator()).cpu(), nrow=8)
        ax.figure.set_size_inches(6.4, 4.9)
        ax.set_title(f"CelebA 64×64, conv VAE: decoder means of z ~ N(0, I) ({bpd_title(run)})")
        save_figure(ax.figure, ctx.out / "celeba_samples.png")
    return {}


def celeba_temperatures(ctx: Context) -> dict:
    run = ctx.run("celeba-conv")
    temperatures = (0.5, 0.7, 0.85, 1.0, 1.2)
    rows = [sample_prior(run.model, 8, temperature=t, generator=_generator()).cpu() for t in temperatures]
    with book_style():
        ax = image_rows(rows, [f"T = {t:g}" for t in temperatures], image_inches=0.8)
        ax.set_title("CelebA: z = T·ε with the same ε in each column (T < 1: typical but bland; T > 1: odd)")
        save_figure(ax.figure, ctx.out / "celeba_temperatures.png")
    return {}


def celeba_neighbourhood(ctx: Context) -> dict:
    run = ctx.run("celeba-conv")
    images, _ = ctx.test_images(run)
    face = images[picked(1, len(images))[0]]
    reconstruction = experiments.decode_all(run.model, latent_means(run.model, face[None]))
    scales = (0.25, 0.5, 1.0, 1.5)
    # No input column: CelebA's licence forbids redistributing its photos, so only decoded faces are shown.
    rows = [torch.cat([reconstruction, sample_near(run.model, face, 6, scale=s, generator=_generator()).cpu()])
            for s in scales]
    with book_style():
        ax = image_rows(rows, [f"scale {s:g}" for s in scales],
                        col_labels=["decode(μ)"] + [f"sample {k + 1}" for k in range(6)], image_inches=0.8)
        ax.set_title("CelebA: decode(μ(x) + scale·ε), the same ε in each column", pad=18)
        save_figure(ax.figure, ctx.out / "celeba_neighbourhood.png")
    return {}


def celeba_traversals(ctx: Context) -> dict:
    run = ctx.run("celeba-conv")
    images, _ = ctx.test_images(run)
    dims, kl = most_active_dims(run.model, images[:ctx.count(2000, 200)], k=6)
    face = images[picked(1, len(images), seed=SEED + 1)[0]]
    z = latent_means(run.model, face[None])[0]
    values = torch.linspace(-3, 3, 9)
    rows = [traverse(run.model, z, int(d), values).cpu() for d in dims]
    with book_style():
        ax = image_rows(rows, [f"dim {int(d)}\nKL {float(k):.2f}" for d, k in zip(dims, kl)],
                        col_labels=[f"{v:g}" for v in values.tolist()], image_inches=0.8)
        ax.set_title("CelebA: one face's code with one coordinate set to -3 ... 3\n"
                     "(the six dimensions with the largest average KL, nats)", pad=18)
        save_figure(ax.figure, ctx.out / "celeba_traversals.png")
    return {"celeba_traversals": {f"dim{rank}": {"index": int(d), "kl": float(k)}
                                  for rank, (d, k) in enumerate(zip(dims, kl))}}


def _celeba_attribute(ctx: Context, attribute: str, filename: str) -> dict:
    run = ctx.run("celeba-conv")
    images, split = ctx.test_images(run)
    column = split.attr_names.index(attribute)
    has = split.targets[:, column] == 1
    if has.sum() < 2 or (~has).sum() < 2:
        raise MissingInput(f"the CelebA test split has too few images with and without {attribute}")
    direction = attribute_direction(run.model, images[has], images[~has])  # (D,)
    alphas = torch.linspace(-2, 2, 9)
    faces = [i for i in picked(len(images), len(images), seed=SEED + 2) if not has[i]][:2]
    faces += [i for i in picked(len(images), len(images), seed=SEED + 3) if has[i]][:2]
    rows = [apply_direction(run.model, images[i], direction, alphas).cpu() for i in faces]
    labels = [f"face {k + 1}\n({'with' if has[i] else 'without'})" for k, i in enumerate(faces)]
    pretty = attribute.replace("_", " ").lower()
    with book_style():
        ax = image_rows(rows, labels, col_labels=[f"α={a:g}" for a in alphas.tolist()], image_inches=0.8)
        ax.set_title(f"CelebA: decode(μ(x) + α·d), d = mean μ of {int(has.sum()):,} test faces {pretty} minus "
                     f"{int((~has).sum()):,} without (|d| = {direction.norm():.2f})", pad=18, fontsize=9)
        save_figure(ax.figure, ctx.out / filename)
    return {filename.removesuffix(".png"): {"with": int(has.sum()), "without": int((~has).sum()),
                                            "direction_norm": direction.norm().item()}}


def celeba_attribute_smiling(ctx: Context) -> dict:
    return _celeba_attribute(ctx, "Smiling", "celeba_attribute_smiling.png")


def celeba_attribute_eyeglasses(ctx: Context) -> dict:
    return _celeba_attribute(ctx, "Eyeglasses", "celeba_attribute_eyeglasses.png")


def celeba_interpolation(ctx: Context) -> dict:
    run = ctx.run("celeba-conv")
    images, _ = ctx.test_images(run)
    order = picked(8, len(images), seed=SEED + 4)
    pairs = [(images[order[2 * k]], images[order[2 * k + 1]]) for k in range(len(order) // 2)]
    steps = 10
    with book_style():
        ax = image_rows(framed_interpolations(run.model, pairs, steps, show_inputs=False),
                        [f"pair {k + 1}" for k in range(len(pairs))],
                        col_labels=interpolation_columns(steps, show_inputs=False), image_inches=0.75)
        ax.set_title("CelebA: lerp between the posterior means of two test faces", pad=16)
        save_figure(ax.figure, ctx.out / "celeba_interpolation.png")
    return {}


# -------------------------------------------------------------------------------------------- registry

RUN_FIGURES: dict[str, Callable[[Context], dict]] = {f.__name__: f for f in (
    cifar10_fc_vs_conv_samples, cifar10_fc_vs_conv_recon, cifar10_bpd_curves, cifar10_interp_linear_vs_slerp,
    cifar10_interp_within_class, cifar10_interp_across_class, cifar10_latent_pca,
    celeba_samples, celeba_temperatures, celeba_neighbourhood, celeba_traversals,
    celeba_attribute_smiling, celeba_attribute_eyeglasses, celeba_interpolation,
    cifar10_hvae_levels, cifar10_hvae_samples, cifar10_quality_per_minute)}
# figure name -> the experiment in solutions.experiments that draws it
THEORY_FIGURES = {figure: key for key, (_, _, figures) in experiments.EXPERIMENTS.items() for figure in figures}
ALL_FIGURES = [*RUN_FIGURES, *THEORY_FIGURES]


def theory_config(key: str, ctx: Context):
    _, config_class, _ = experiments.EXPERIMENTS[key]
    config = config_class()
    if ctx.quick:
        config = experiments.quick(config)
    if hasattr(config, "data"):
        config = replace(config, data=replace(config.data, root=ctx.data_root))
    return config


def merge_metrics(path: Path, new: dict) -> None:
    """Update metrics.json with new top-level keys, keeping every other key (written atomically)."""
    metrics = {}
    if path.is_file():
        try:
            metrics = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            print(f"note: {path} was not valid JSON; starting it afresh")
    metrics.update(new)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def make_figures(names: list[str], ctx: Context) -> tuple[list[str], list[str]]:
    """Draw the named figures; returns (written, skipped). Metrics are merged after each figure."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    metrics_path = ctx.out / "metrics.json"
    written, skipped, experiments_done = [], [], set()
    for name in names:
        started = time.perf_counter()
        try:
            if name in RUN_FIGURES:
                new = RUN_FIGURES[name](ctx)
                for run in ctx.loaded_runs.values():
                    new[run.name.replace("-", "_")] = run_metrics(run, ctx.runs_dir)
                drawn = [name]
            else:
                key = THEORY_FIGURES[name]
                if key in experiments_done:
                    continue  # drawn together with an earlier figure of the same experiment
                function, _, drawn = experiments.EXPERIMENTS[key]
                new = function(theory_config(key, ctx), ctx.out, str(ctx.device))
                for metrics in new.values():
                    metrics["command"] = "python -m solutions.figures --only " + " ".join(drawn)
                experiments_done.add(key)
        except MissingInput as note:
            print(f"skip {name}: {note}")
            skipped.append(name)
            continue
        except DataError as error:
            print(f"skip {name}: {error}")
            skipped.append(name)
            continue
        merge_metrics(metrics_path, new)
        for figure in drawn:
            print(f"wrote {ctx.out / (figure + '.png')} ({time.perf_counter() - started:.0f} s)")
        written.extend(drawn)
    return written, skipped


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m solutions.figures", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-dir", default="runs", help="folder holding the trained runs (default: runs)")
    parser.add_argument("--out", default="book/figures", help="where PNGs and metrics.json go (default: book/figures)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="draw only these figures (names without .png)")
    parser.add_argument("--data-root", default=None, help="data folder (default: $VAE_DATA_ROOT or ./data)")
    parser.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: CUDA when present)")
    parser.add_argument("--quality-record", type=Path, default=QUALITY_RECORD,
                        help="the record result of benchmarks.quality (default: benchmarks/results/quality-record.json)")
    parser.add_argument("--quick", action="store_true", help="tiny theory experiments and image counts (tests)")
    parser.add_argument("--list", action="store_true", help="print the figure names and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        print("\n".join(ALL_FIGURES))
        return 0
    try:
        names = [name.removesuffix(".png") for name in args.only] if args.only else ALL_FIGURES
        unknown = [name for name in names if name not in ALL_FIGURES]
        if unknown:
            raise FiguresError(f"unknown figure {', '.join(unknown)}; `python -m solutions.figures --list` names them")
        ctx = Context(Path(args.runs_dir), Path(args.out), args.data_root, default_device(args.device), args.quick,
                      args.quality_record)
        written, skipped = make_figures(names, ctx)
    except FiguresError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(written)} figure(s) written to {args.out}, {len(skipped)} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
