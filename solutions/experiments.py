"""Small, real experiments behind the book's theory answers (Q1-Q4).

Each experiment trains small ConvVAEs from solutions.vae on real CIFAR-10 (a few CPU minutes), measures
what the answer claims, prints a table, draws the figure and returns the numbers for metrics.json:

    q1_beta_sweep(Q1Config(), out)       the KL weight beta trades reconstruction for usable prior samples
    q2_gradient_variance(Q2Config(), out) reparameterization vs score-function gradients; sampling blocks grads
    q3_posteriors(Q3Config(), out)       2-D latents: posteriors over the prior, and how much of it they cover
    q4_latent_maps(Q4Config(), out)      2-D latent maps with and without the KL term
    q4_interp_smoothness(Q4Config(), out) how evenly decoded interpolations change, AE vs VAE

A "plain autoencoder" here is the same ConvVAE trained with beta = 0 and evaluated with the posterior mean:
without the KL term nothing stops the encoder from shrinking its noise (it does: see `posterior_std`) and
placing codes anywhere. Trained models are cached per process, so experiments sharing a configuration
(Q1 and Q4's smoothness; Q3 and Q4's maps) train it once. `python -m solutions.figures` runs them all.
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.patches import Circle, Ellipse
from matplotlib.ticker import MaxNLocator
from torch import nn

from course_utils.data import CachedSplit, InMemoryLoader, load_cached
from course_utils.plotting import book_style, image_rows, save_figure
from course_utils.seeding import seed_everything
from solutions.explore import encode_all, kl_terms, sample_prior
from solutions.interpolate import evaluating, latent_path, model_device
from solutions.vae import ConvVAE, reparameterize, train_vae

# A latent dimension is active when its posterior mean varies across images by more than this
# (Burda et al., 2016, "Importance Weighted Autoencoders", sec. 5.2: A_u = Cov_x(E_q[u]) > 0.01).
ACTIVE_VARIANCE = 0.01
CLASS_COLOURS = plt.get_cmap("tab10")


# --------------------------------------------------------------------------------------------- configs

@dataclass(frozen=True)
class DataConfig:
    root: str | None = None  # data folder; None: $VAE_DATA_ROOT or ./data
    train_images: int = 50_000  # a random subset of CIFAR-10's train split (all 50,000 by default)
    test_images: int = 10_000  # a random subset of the test split, for every measurement
    seed: int = 0  # picks the subsets


@dataclass(frozen=True)
class ModelConfig:
    latent_dim: int = 32  # small enough for a few CPU minutes, large enough to leave dims unused
    widths: tuple[int, ...] = (32, 64, 128)  # ConvVAE channels; half the reference model's (64, 128, 256)
    epochs: int = 1
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0  # the same seed gives every beta the same initial weights and data order


@dataclass(frozen=True)
class Q1Config:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    betas: tuple[float, ...] = (0.0, 0.1, 0.5, 1.0, 4.0)  # must include 0 (the autoencoder) and 1 (the VAE)
    fd_images: int = 2000  # prior samples and test images behind each Frechet distance
    fd_size: int = 16  # images are average-pooled to fd_size x fd_size before the Frechet distance
    shown_samples: int = 10  # prior samples per row in the figures
    seed: int = 0


@dataclass(frozen=True)
class Q2Config:
    mu: float = 1.0  # the toy problem: d/dmu E_{z ~ N(mu 1, sigma^2 I)} [ |z|^2 ], exactly 2 mu per coordinate
    sigma: float = 1.0
    latent_dim: int = 32  # dimensions of z in the sample-count sweep
    sample_counts: tuple[int, ...] = (1, 4, 16, 64, 256)  # Monte-Carlo samples per gradient estimate
    dims: tuple[int, ...] = (1, 4, 16, 64, 256)  # dimensions of z in the dimension sweep (one sample each)
    repeats: int = 2000  # independent estimates behind each variance
    demo_samples: int = 10_000  # samples in the "does the gradient reach mu?" demonstration
    seed: int = 0


@dataclass(frozen=True)
class Q3Config:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig(latent_dim=2)
    ellipses: int = 150  # test posteriors drawn as ellipses
    prior_samples: int = 5000  # draws from p(z) behind the coverage number
    coverage_radius: float = 2.0  # a prior draw is covered when within this many posterior stds of some q(z|x)
    seed: int = 0


@dataclass(frozen=True)
class Q4Config:
    data: DataConfig = DataConfig()
    map_model: ModelConfig = ModelConfig(latent_dim=2)  # the 2-D maps (shared with Q3)
    smooth_model: ModelConfig = ModelConfig()  # the interpolations (shared with Q1's beta = 0 and beta = 1)
    map_points: int = 3000  # test codes drawn on each map
    manifold_steps: int = 10  # decoded grid of manifold_steps x manifold_steps codes under each map
    pairs: int = 500  # random test pairs interpolated
    steps: int = 17  # frames per interpolation (odd: the middle frame is t = 0.5)
    fd_size: int = 16  # pooling before the Frechet distance of the middle frames (as in Q1)
    shown_pairs: int = 2
    seed: int = 0


def quick(config):
    """A tiny version of an experiment's config (seconds; for tests and smoke runs): few images, thin models."""
    small_data = dict(train_images=128, test_images=64)
    small_model = dict(widths=(8, 16, 32), batch_size=32)
    if isinstance(config, Q1Config):
        return replace(config, data=replace(config.data, **small_data), model=replace(config.model, **small_model),
                       betas=(0.0, 1.0), fd_images=64, fd_size=4, shown_samples=4)
    if isinstance(config, Q2Config):
        return replace(config, sample_counts=(1, 4), dims=(1, 4), repeats=200, demo_samples=100)
    if isinstance(config, Q3Config):
        return replace(config, data=replace(config.data, **small_data), model=replace(config.model, **small_model),
                       ellipses=20, prior_samples=200)
    if isinstance(config, Q4Config):
        return replace(config, data=replace(config.data, **small_data),
                       map_model=replace(config.map_model, **small_model),
                       smooth_model=replace(config.smooth_model, **small_model),
                       map_points=100, manifold_steps=4, pairs=6, steps=5, fd_size=4, shown_pairs=1)
    raise TypeError(f"no quick version of {type(config).__name__}")


# ------------------------------------------------------------------------------------ data and models

def _subset(split: CachedSplit, count: int, seed: int) -> CachedSplit:
    """A random subset: the cached splits are sorted by class, so the first `count` would be one class."""
    if count > len(split):
        raise ValueError(f"asked for {count} {split.split} images, the split has {len(split)}: lower the count")
    keep = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:count]
    return replace(split, images=split.images[keep], targets=split.targets[keep])


@functools.cache
def theory_data(config: DataConfig) -> tuple[CachedSplit, CachedSplit]:
    """(train, test) subsets of CIFAR-10 as uint8 CachedSplits."""
    train = load_cached("cifar10", config.root, "train", progress=False)
    test = load_cached("cifar10", config.root, "test", progress=False)
    return _subset(train, config.train_images, config.seed), _subset(test, config.test_images, config.seed + 1)


def test_images(config: DataConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The test subset as floats: images (N, 3, 32, 32) in [0, 1] and class labels (N,)."""
    test = theory_data(config)[1]
    return test.images.float() / 255, test.targets


@dataclass
class TrainedModel:
    model: nn.Module
    beta: float
    seconds: float  # wall-clock training time
    train_loss: float  # last epoch's mean negative ELBO (beta-weighted), nats per image


@functools.cache
def trained_model(data: DataConfig, config: ModelConfig, beta: float, device: str = "cpu") -> TrainedModel:
    """A ConvVAE trained with solutions.vae.train_vae (BCE recon + beta * KL) on the train subset; cached."""
    seed_everything(config.seed)
    model = ConvVAE(latent_dim=config.latent_dim, in_channels=3, image_size=32, widths=config.widths)
    loader = InMemoryLoader(theory_data(data)[0], config.batch_size, shuffle=True, drop_last=True,
                            seed=config.seed, device=device)
    started = time.perf_counter()
    losses = train_vae(model, loader, epochs=config.epochs, lr=config.lr, device=device, beta=beta)
    return TrainedModel(model.eval(), beta, time.perf_counter() - started, losses[-1])


def decode_all(model: nn.Module, z: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """decode(z) batch by batch: (N, D) -> (N, C, H, W) on the CPU."""
    device = model_device(model)
    with evaluating(model):
        return torch.cat([model.decode(chunk.to(device)).cpu() for chunk in z.split(batch_size)])


def evaluate(model: nn.Module, images: torch.Tensor) -> dict:
    """Reconstruction and latent statistics on test images (N, C, H, W) in [0, 1].

    recon_mse: mean squared error per pixel value of decode(mu(x)); kl: KL(q(z|x) || p(z)) in nats per image;
    active_dims: dimensions whose mean mu varies over the images by more than ACTIVE_VARIANCE;
    posterior_std: mean sigma of q(z|x).
    """
    mu, logvar = encode_all(model, images)  # (N, D) each
    reconstructions = decode_all(model, mu)
    return {"recon_mse": (reconstructions - images).pow(2).mean().item(),
            "kl": kl_terms(mu, logvar).sum(1).mean().item(),
            "active_dims": int((mu.var(0) > ACTIVE_VARIANCE).sum()),
            "posterior_std": torch.exp(0.5 * logvar).mean().item()}


def frechet_distance(a: torch.Tensor, b: torch.Tensor, size: int = 16) -> float:
    """Frechet distance between Gaussians fitted to two image sets' pixels, after pooling to size x size.

    d^2 = |m_a - m_b|^2 + tr(C_a + C_b - 2 (C_a^1/2 C_b C_a^1/2)^1/2)  (Dowson & Landau, 1982; the formula of FID,
    Heusel et al., 2017, on pooled pixels instead of Inception features, which we do not ship). Lower is closer;
    it sees colour statistics and blur, not semantics: a crude but honest stand-in for sample quality.
    Inputs: a (N, C, H, W), b (M, C, H, W) in [0, 1]. Output: a float.
    """
    fa = F.adaptive_avg_pool2d(a.double(), size).flatten(1)  # (N, C*size*size)
    fb = F.adaptive_avg_pool2d(b.double(), size).flatten(1)
    cov_a, cov_b = torch.cov(fa.T), torch.cov(fb.T)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov_a)
    sqrt_a = eigenvectors @ torch.diag(eigenvalues.clamp_min(0).sqrt()) @ eigenvectors.T  # C_a^1/2
    # tr((C_a^1/2 C_b C_a^1/2)^1/2) = sum of square roots of the eigenvalues of the symmetric PSD product
    trace_sqrt = torch.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a).clamp_min(0).sqrt().sum()
    mean_term = (fa.mean(0) - fb.mean(0)).pow(2).sum()
    return float(mean_term + cov_a.trace() + cov_b.trace() - 2 * trace_sqrt)


def beta_key(beta: float) -> str:
    """A metrics.json key for a beta that is also a valid MyST substitution name: 0.1 -> beta0p1."""
    return "beta" + f"{beta:g}".replace(".", "p").replace("-", "m")


def beta_label(beta: float) -> str:
    return "β = 0 (AE)" if beta == 0 else f"β = {beta:g}"


def _print_table(title: str, rows: list[dict]) -> None:
    """A plain-text table of dicts with the same keys."""
    columns = list(rows[0])
    cells = [[f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print(title)
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths)))


def _run_info(data: DataConfig, config: ModelConfig, models: list[TrainedModel]) -> dict:
    return {"dataset": "cifar10", "train_images": data.train_images, "test_images": data.test_images,
            "latent_dim": config.latent_dim, "epochs": config.epochs,
            "train_minutes": sum(m.seconds for m in models) / 60}


# ------------------------------------------------------------------------------------------------- Q1

def q1_beta_sweep(config: Q1Config, out: Path, device: str = "cpu") -> dict:
    """Train one model per beta; measure reconstruction, KL, active dims and the Frechet distance of prior samples.

    Writes q1_beta_sweep.png and q1_autoencoder_vs_vae_samples.png into `out`.
    Returns {"q1_beta_sweep": {...}, "q1_autoencoder_vs_vae": {...}} for metrics.json.
    """
    if 0.0 not in config.betas or 1.0 not in config.betas:
        raise ValueError(f"betas must include 0 (the autoencoder) and 1 (the VAE), got {config.betas}")
    images, _ = test_images(config.data)
    reference = images[:config.fd_images]
    train = theory_data(config.data)[0]
    train_floor = frechet_distance(train.images[:config.fd_images].float() / 255, reference, config.fd_size)

    models, rows, shown = [], [], []
    for beta in config.betas:
        trained = trained_model(config.data, config.model, beta, device)
        models.append(trained)
        generator = torch.Generator().manual_seed(config.seed)
        samples = sample_prior(trained.model, config.fd_images, generator=generator).cpu()
        rows.append({"beta": beta, **evaluate(trained.model, images),
                     "sample_fd": frechet_distance(samples, reference, config.fd_size),
                     "train_minutes": trained.seconds / 60})
        shown.append(samples[:config.shown_samples])
    _print_table(f"Q1 beta sweep (CIFAR-10, latent {config.model.latent_dim}, {config.model.epochs} epoch(s); "
                 f"train-vs-test Frechet floor {train_floor:.3g})", rows)

    with book_style():
        fig = plt.figure(figsize=(7.6, 3.2 + 0.62 * len(config.betas)))
        grid = fig.add_gridspec(2, 2, height_ratios=[2.6, 0.62 * len(config.betas)], hspace=0.4, wspace=0.35)
        rate_distortion, quality = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        kls, mses, fds = ([row[k] for row in rows] for k in ("kl", "recon_mse", "sample_fd"))
        rate_distortion.plot(kls, mses, "o-", color="C0")
        for row in rows:
            rate_distortion.annotate(f"β={row['beta']:g}", (row["kl"], row["recon_mse"]), textcoords="offset points",
                                     xytext=(4, 4), fontsize=8)
        rate_distortion.set(xscale="log", xlabel="KL(q(z|x) ‖ p(z)) [nats/image]",
                            ylabel="reconstruction MSE (test)", title="(a) rate vs distortion")
        rate_distortion.margins(x=0.2, y=0.15)
        positions = range(len(rows))
        quality.plot(positions, fds, "o-", color="C0", label="decoded prior samples")
        autoencoder = config.betas.index(0.0)
        quality.plot([autoencoder], [fds[autoencoder]], "o", color="C3", label="β = 0: the autoencoder")
        quality.axhline(train_floor, color="grey", linestyle="--", linewidth=1, label="train vs test images")
        quality.set(xticks=list(positions), xticklabels=[f"{row['beta']:g}" for row in rows], xlabel="β",
                    ylabel=f"FD to test images ({config.fd_size}×{config.fd_size} px)", yscale="log",
                    title="(b) sample quality (lower = closer)")
        quality.legend(frameon=False, loc="center right")
        samples_ax = image_rows(shown, [f"{beta_label(row['beta'])}  FD {row['sample_fd']:.3g}" for row in rows],
                                ax=fig.add_subplot(grid[1, :]))
        samples_ax.set_title("(c) decoded prior samples z ~ N(0, I), same z in every row")
        save_figure(fig, out / "q1_beta_sweep.png")

    ae, vae = models[config.betas.index(0.0)], models[config.betas.index(1.0)]
    codes = encode_all(ae.model, images)[0].double()  # (N, D) AE codes
    # The autoencoder's best case: sample from a full-covariance Gaussian fitted to its own codes.
    fitted = torch.distributions.MultivariateNormal(codes.mean(0), torch.cov(codes.T)
                                                    + 1e-6 * torch.eye(codes.shape[1], dtype=codes.dtype))
    torch.manual_seed(config.seed)
    fitted_samples = decode_all(ae.model, fitted.sample((config.fd_images,)).float())
    comparison = {
        "ae_prior_fd": rows[config.betas.index(0.0)]["sample_fd"],
        "ae_fitted_gaussian_fd": frechet_distance(fitted_samples, reference, config.fd_size),
        "vae_prior_fd": rows[config.betas.index(1.0)]["sample_fd"],
        "ae_code_std": codes.std(0).mean().item(),
        "ae_posterior_std": rows[config.betas.index(0.0)]["posterior_std"],
        "train_floor_fd": train_floor,
    }
    count = config.shown_samples
    with book_style():
        ax = image_rows(
            [shown[config.betas.index(0.0)], fitted_samples[:count], shown[config.betas.index(1.0)]],
            [f"AE, z ~ N(0, I)\nFD {comparison['ae_prior_fd']:.3g}",
             f"AE, z ~ Gaussian fit to its codes\nFD {comparison['ae_fitted_gaussian_fd']:.3g}",
             f"VAE (β = 1), z ~ N(0, I)\nFD {comparison['vae_prior_fd']:.3g}"], image_inches=0.62)
        ax.set_title(f"Prior samples, autoencoder vs VAE (CIFAR-10, latent {config.model.latent_dim}; "
                     f"FD of train vs test images {train_floor:.3g})")
        save_figure(ax.figure, out / "q1_autoencoder_vs_vae_samples.png")

    sweep = {"run": _run_info(config.data, config.model, models), "fd_size": config.fd_size,
             "train_floor_fd": train_floor, **{beta_key(row["beta"]): row for row in rows}}
    return {"q1_beta_sweep": sweep, "q1_autoencoder_vs_vae": comparison}


# ------------------------------------------------------------------------------------------------- Q2

def _toy_gradients(config: Q2Config, samples: int, dim: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """`repeats` independent estimates of d/dmu_1 E_{z ~ N(mu, sigma^2 I)}[|z|^2] (true value 2 mu), each from
    `samples` draws, by three estimators, all differentiated by autograd:

    pathwise (reparameterization): z = mu + sigma * eps, gradient of mean f(z)
    score function (REINFORCE):    gradient of mean f(z) * log N(z; mu, sigma^2) with z held fixed
    score function + baseline:     the same with f(z) - E[f] (the best constant baseline, known here)
    """
    shape = (config.repeats, samples, dim)
    eps = torch.randn(shape, generator=generator, dtype=torch.float64)
    estimates = {}
    for name in ("pathwise", "score function", "score function + baseline"):
        mu = torch.full((config.repeats, 1, dim), config.mu, dtype=torch.float64, requires_grad=True)
        if name == "pathwise":
            z = mu + config.sigma * eps  # reparameterize's z = mu + sigma * eps, with the draws shared by all three
            surrogate = z.pow(2).sum(-1).mean(1)  # (repeats,)
        else:
            z = (config.mu + config.sigma * eps).detach()  # a sample: no path from mu to z
            f = z.pow(2).sum(-1)  # (repeats, samples)
            if name.endswith("baseline"):
                f = f - dim * (config.mu ** 2 + config.sigma ** 2)  # E[f]: subtracting it keeps the mean
            log_q = torch.distributions.Normal(mu, config.sigma).log_prob(z).sum(-1)  # (repeats, samples)
            surrogate = (f * log_q).mean(1)
        surrogate.sum().backward()  # repeats are independent, so each mu row receives its own estimate
        estimates[name] = mu.grad[:, 0, 0]  # (repeats,)
    return estimates


def _gradient_demo(config: Q2Config) -> dict:
    """Does d/dmu E[z^2] reach mu when z is drawn (a) by torch.normal, (b) by Distribution.sample(),
    (c) by reparameterize? The true value is 2 mu."""
    torch.manual_seed(config.seed)
    mu_value, logvar_value = torch.full((config.demo_samples, 1), config.mu), 2 * math.log(config.sigma)
    results = {}
    mu = mu_value.clone().requires_grad_()
    z = torch.normal(mu, config.sigma)  # differentiable in name only: its gradient w.r.t. the mean is zero
    z.pow(2).mean().backward()
    results["torch_normal"] = mu.grad.sum().item()
    mu = mu_value.clone().requires_grad_()
    z = torch.distributions.Normal(mu, config.sigma).sample()  # runs under no_grad: z is cut from mu
    results["distribution_sample_has_graph"] = z.requires_grad
    mu = mu_value.clone().requires_grad_()
    z = reparameterize(mu, torch.full_like(mu, logvar_value))
    z.pow(2).mean().backward()
    results["reparameterize"] = mu.grad.sum().item()
    results["true_gradient"] = 2 * config.mu
    return results


def q2_gradient_variance(config: Q2Config, out: Path, device: str = "cpu") -> dict:
    """Variance of pathwise vs score-function gradient estimates on a toy Gaussian expectation, against the
    number of samples and the dimension; plus the demonstration that sampling without the trick blocks gradients.
    Writes q2_gradient_variance.png. Returns {"q2_gradient_variance": {...}} (runs on the CPU: it is tiny)."""
    generator = torch.Generator().manual_seed(config.seed)
    by_samples = {n: _toy_gradients(config, n, config.latent_dim, generator) for n in config.sample_counts}
    by_dim = {d: _toy_gradients(config, 1, d, generator) for d in config.dims}
    estimators = list(next(iter(by_samples.values())))
    rows = [{"sweep": "samples", "samples": n, "dim": config.latent_dim,
             **{name: g.var().item() for name, g in by_samples[n].items()}} for n in config.sample_counts]
    rows += [{"sweep": "dim", "samples": 1, "dim": d, **{name: g.var().item() for name, g in by_dim[d].items()}}
             for d in config.dims]
    _print_table(f"Q2 variance of d/dmu E[|z|^2] estimates (true value {2 * config.mu:g}; "
                 f"{config.repeats} repeats)", rows)
    demo = _gradient_demo(config)
    _print_table("Q2 does the gradient reach mu?", [demo])

    with book_style():
        fig, (by_n_ax, by_d_ax, demo_ax) = plt.subplots(1, 3, figsize=(10.5, 3.1),
                                                        gridspec_kw={"width_ratios": [1, 1, 0.8]})
        styles = {"pathwise": ("C0", "o-"), "score function": ("C3", "s-"), "score function + baseline": ("C1", "^--")}
        for name in estimators:
            colour, marker = styles[name]
            by_n_ax.plot(config.sample_counts, [by_samples[n][name].var().item() for n in config.sample_counts],
                         marker, color=colour, label=name)
            by_d_ax.plot(config.dims, [by_dim[d][name].var().item() for d in config.dims], marker, color=colour,
                         label=name)
        counts = torch.tensor(config.sample_counts, dtype=torch.float64)
        by_n_ax.plot(counts.numpy(), (4 * config.sigma ** 2 / counts).numpy(), ":", color="grey",
                     label="4σ²/n (pathwise, exact)")
        by_n_ax.set(xscale="log", yscale="log", xlabel="samples n per estimate", ylabel="variance of the estimate",
                    title=f"(a) vs samples, z in {config.latent_dim} dims")
        by_d_ax.set(xscale="log", yscale="log", xlabel="dimension of z", ylabel="variance of the estimate",
                    title="(b) vs dimension, one sample")
        by_d_ax.legend(*by_n_ax.get_legend_handles_labels(), loc="upper left", frameon=False)
        labels = ["torch.normal", "Normal(...)\n.sample()", "reparameterize"]
        values = [demo["torch_normal"], 0.0, demo["reparameterize"]]
        demo_ax.bar(range(3), values, color=["C3", "C3", "C0"])
        demo_ax.axhline(demo["true_gradient"], color="grey", linestyle="--", linewidth=1)
        demo_ax.text(2.45, demo["true_gradient"], f"true {demo['true_gradient']:g}", ha="right", va="bottom",
                     fontsize=7, color="grey")
        demo_ax.text(0, 0.05, "0: silently\nzero", ha="center", va="bottom", fontsize=7)
        demo_ax.text(1, 0.05, "no graph:\nbackward fails", ha="center", va="bottom", fontsize=7)
        demo_ax.text(2, demo["reparameterize"] / 2, f"{demo['reparameterize']:.3f}", ha="center", color="white",
                     fontsize=8)
        demo_ax.set(xticks=range(3), ylim=(0, 1.25 * demo["true_gradient"]), ylabel="gradient reaching μ",
                    title=f"(c) d/dμ E[z²], {config.demo_samples:,} samples")
        demo_ax.set_xticks(range(3), labels)
        fig.suptitle(f"Gradient of E[|z|²] over z ~ N(μ, σ²I) w.r.t. μ₁ "
                     f"(μ = {config.mu:g}, σ = {config.sigma:g}; "
                     f"variance over {config.repeats:,} repeats)", y=1.02)
        fig.tight_layout()
        save_figure(fig, out / "q2_gradient_variance.png")

    def key(n):
        return f"n{n}"

    summary = {
        "mu": config.mu, "sigma": config.sigma, "latent_dim": config.latent_dim, "repeats": config.repeats,
        "by_samples": {key(n): {name.replace(" + ", "_").replace(" ", "_"): by_samples[n][name].var().item()
                                for name in estimators} for n in config.sample_counts},
        "by_dim": {f"d{d}": {name.replace(" + ", "_").replace(" ", "_"): by_dim[d][name].var().item()
                             for name in estimators} for d in config.dims},
        "demo": demo,
    }
    return {"q2_gradient_variance": summary}


# ------------------------------------------------------------------------------------------------- Q3

def coverage(mu: torch.Tensor, logvar: torch.Tensor, prior_draws: torch.Tensor, radius: float) -> float:
    """Fraction of prior draws within `radius` posterior standard deviations (Mahalanobis distance under the
    diagonal Gaussian) of at least one posterior q(z|x_n).

    Inputs: mu, logvar (N, D) posteriors; prior_draws (M, D). Output: a float in [0, 1].
    """
    inv_std = torch.exp(-0.5 * logvar)  # (N, D)
    covered = []
    for chunk in prior_draws.split(256):  # (m, D)
        distance2 = ((chunk[:, None, :] - mu[None]) * inv_std[None]).pow(2).sum(-1)  # (m, N)
        covered.append(distance2.min(1).values <= radius ** 2)
    return torch.cat(covered).float().mean().item()


def _posterior_stats(model: nn.Module, images: torch.Tensor, config: Q3Config) -> dict:
    mu, logvar = encode_all(model, images)
    prior = torch.randn(config.prior_samples, mu.shape[1], generator=torch.Generator().manual_seed(config.seed))
    # The aggregate posterior q(z) = mean_n q(z|x_n): Cov = Cov(mu) + mean sigma^2. The KL term pulls it to N(0, I).
    aggregate_cov = torch.cov(mu.T) + torch.diag(logvar.exp().mean(0))
    return {"mu": mu, "logvar": logvar,
            "coverage": coverage(mu, logvar, prior, config.coverage_radius),
            "posterior_std": torch.exp(0.5 * logvar).mean().item(),
            "aggregate_mean_norm": mu.mean(0).norm().item(),
            "aggregate_var_1": aggregate_cov[0, 0].item(), "aggregate_var_2": aggregate_cov[1, 1].item()}


def _draw_prior(ax: plt.Axes) -> None:
    """Circles of the 2-D standard normal holding 39%, 86% and 99% of its mass."""
    for radius in (1, 2, 3):
        ax.add_patch(Circle((0, 0), radius, fill=False, color="black", linestyle="--", linewidth=0.8, alpha=0.6))


def q3_posteriors(config: Q3Config, out: Path, device: str = "cpu") -> dict:
    """2-D latent: posterior ellipses (1 std) of test images over the prior, for the VAE (beta = 1) and the
    autoencoder (beta = 0), and the fraction of prior draws the posteriors cover.
    Writes q3_posteriors.png. Returns {"q3_posteriors": {...}}."""
    images, labels = test_images(config.data)
    classes = theory_data(config.data)[1].classes
    models = {beta: trained_model(config.data, config.model, beta, device) for beta in (1.0, 0.0)}
    stats = {beta: _posterior_stats(trained.model, images, config) for beta, trained in models.items()}
    numbers = {name: {k: v for k, v in stats[beta].items() if k not in ("mu", "logvar")}
               for name, beta in (("vae", 1.0), ("ae", 0.0))}
    _print_table(f"Q3 2-D posteriors (coverage: prior draws within {config.coverage_radius:g} std of some "
                 f"q(z|x), {len(images)} test images)", [{"model": k, **v} for k, v in numbers.items()])

    with book_style():
        fig, axes = plt.subplots(1, 2, figsize=(8.2, 4.0))
        for ax, (name, beta) in zip(axes, (("VAE (β = 1)", 1.0), ("autoencoder (β = 0)", 0.0))):
            mu, std = stats[beta]["mu"][:config.ellipses], torch.exp(0.5 * stats[beta]["logvar"][:config.ellipses])
            for (x, y), (sx, sy), label in zip(mu.tolist(), std.tolist(), labels[:config.ellipses].tolist()):
                ax.add_patch(Ellipse((x, y), 2 * sx, 2 * sy, color=CLASS_COLOURS(label), alpha=0.35, linewidth=0))
            ax.scatter(mu[:, 0].numpy(), mu[:, 1].numpy(), s=3,
                       c=[CLASS_COLOURS(label) for label in labels[:config.ellipses].tolist()])
            _draw_prior(ax)
            extent = max(3.3, float(mu.abs().max()) * 1.1)
            ax.set(xlim=(-extent, extent), ylim=(-extent, extent), aspect="equal", xlabel="z₁", ylabel="z₂",
                   title=f"{name}\ncovers {100 * stats[beta]['coverage']:.0f}% of prior draws, "
                         f"mean σ {stats[beta]['posterior_std']:.2g}")
        handles = [plt.Line2D([], [], marker="o", linestyle="", color=CLASS_COLOURS(i), label=c)
                   for i, c in enumerate(classes)]
        handles.append(plt.Line2D([], [], linestyle="--", color="black", label="prior: 1, 2, 3 σ"))
        fig.legend(handles=handles, loc="center right", frameon=False, bbox_to_anchor=(1.13, 0.5))
        fig.suptitle(f"Posteriors q(z|x) (1-σ ellipses) of {config.ellipses} CIFAR-10 test images over p(z)", y=1.0)
        fig.tight_layout()
        save_figure(fig, out / "q3_posteriors.png")
    return {"q3_posteriors": {"run": _run_info(config.data, config.model, list(models.values())),
                              "coverage_radius": config.coverage_radius, **numbers}}


# ------------------------------------------------------------------------------------------------- Q4

def q4_latent_maps(config: Q4Config, out: Path, device: str = "cpu") -> dict:
    """2-D latent maps of test images coloured by class, with and without the KL term, and the images each
    map decodes to on a grid over the region the codes occupy. Writes q4_latent_maps.png."""
    images, labels = test_images(config.data)
    classes = theory_data(config.data)[1].classes
    models = {name: trained_model(config.data, config.map_model, beta, device)
              for name, beta in (("autoencoder (β = 0)", 0.0), ("VAE (β = 1)", 1.0))}
    numbers = {}
    with book_style():
        fig, axes = plt.subplots(2, 2, figsize=(7.6, 7.6), gridspec_kw={"height_ratios": [1, 1]})
        for column, (name, trained) in enumerate(models.items()):
            mu = encode_all(trained.model, images)[0]
            shown, shown_labels = mu[:config.map_points], labels[:config.map_points]
            ax = axes[0, column]
            ax.scatter(shown[:, 0].numpy(), shown[:, 1].numpy(), s=2,
                       c=[CLASS_COLOURS(label) for label in shown_labels.tolist()])
            _draw_prior(ax)
            # the decoded grid spans the central 98% of the codes in each direction
            low, high = mu.quantile(0.01, dim=0), mu.quantile(0.99, dim=0)
            ax.add_patch(plt.Rectangle(low.tolist(), *(high - low).tolist(), fill=False, color="grey", linewidth=0.8))
            ax.set(aspect="equal", xlabel="z₁", ylabel="z₂", title=f"{name}: means of {len(shown)} test images")
            steps = config.manifold_steps
            z1 = torch.linspace(float(low[0]), float(high[0]), steps)  # left to right
            z2 = torch.linspace(float(high[1]), float(low[1]), steps)  # top to bottom, as on the map
            rows_z2, columns_z1 = torch.meshgrid(z2, z1, indexing="ij")  # (steps, steps) each
            grid = torch.stack([columns_z1, rows_z2], -1).reshape(-1, 2)  # (steps^2, 2), row by row
            decoded = decode_all(trained.model, grid)
            image_rows(list(decoded.split(steps)), [""] * steps, ax=axes[1, column])
            axes[1, column].set_title(f"decoded on the grey box: z₁ ∈ [{low[0]:.2g}, {high[0]:.2g}], "
                                      f"z₂ ∈ [{low[1]:.2g}, {high[1]:.2g}]", fontsize=8)
            key = "ae" if trained.beta == 0 else "vae"
            numbers[key] = {"code_std_1": mu[:, 0].std().item(), "code_std_2": mu[:, 1].std().item(),
                            "box_width_1": float(high[0] - low[0]), "box_width_2": float(high[1] - low[1])}
        handles = [plt.Line2D([], [], marker="o", linestyle="", color=CLASS_COLOURS(i), label=c)
                   for i, c in enumerate(classes)]
        fig.legend(handles=handles, loc="upper center", ncol=5, frameon=False, bbox_to_anchor=(0.5, 1.04))
        fig.tight_layout()
        save_figure(fig, out / "q4_latent_maps.png")
    _print_table("Q4 2-D latent maps (spread of the test codes)", [{"model": k, **v} for k, v in numbers.items()])
    return {"q4_latent_maps": {"run": _run_info(config.data, config.map_model, list(models.values())), **numbers}}


def frame_distances(frames: torch.Tensor) -> torch.Tensor:
    """L2 distances between consecutive frames (steps, C, H, W) -> (steps - 1,)."""
    return (frames[1:] - frames[:-1]).flatten(1).norm(dim=1)


def q4_interp_smoothness(config: Q4Config, out: Path, device: str = "cpu") -> dict:
    """Decode linear interpolations between random test pairs with the autoencoder (beta = 0) and the VAE (beta = 1)
    and measure how evenly the images change: the mean L2 distance between consecutive frames, and the ratio of
    the largest step to the mean step (1 = perfectly even, steps - 1 = everything changes at once); and how much
    the middle frames (t = 0.5) look like test images: their Frechet distance to the test set, as in Q1.
    Writes q4_interp_smoothness.png. Returns {"q4_interp_smoothness": {...}}."""
    images, _ = test_images(config.data)
    generator = torch.Generator().manual_seed(config.seed)
    pairs = torch.randint(len(images), (config.pairs, 2), generator=generator)
    models = {"ae": trained_model(config.data, config.smooth_model, 0.0, device),
              "vae": trained_model(config.data, config.smooth_model, 1.0, device)}
    names = {"ae": "autoencoder (β = 0)", "vae": "VAE (β = 1)"}
    distances, frames = {}, {}
    for name, trained in models.items():
        # interpolate() for every pair at once: posterior means, a lerp between each pair's, decode in big batches
        mu, _ = encode_all(trained.model, images[pairs.flatten()])
        mu = mu.view(config.pairs, 2, -1)  # (P, 2, D): each pair's two posterior means
        paths = torch.stack([latent_path(a, b, config.steps, "linear") for a, b in mu])  # (P, steps, D)
        frames[name] = decode_all(trained.model, paths.flatten(0, 1)).unflatten(0, (config.pairs, config.steps))
        distances[name] = torch.stack([frame_distances(f) for f in frames[name]])  # (P, steps - 1)
    rows = {}
    for name, d in distances.items():
        ratio = d.max(1).values / d.mean(1)
        rows[name] = {"mean_step": d.mean().item(), "max_over_mean": ratio.mean().item(),
                      "max_over_mean_p90": ratio.quantile(0.9).item(),
                      "middle_fd": frechet_distance(frames[name][:, config.steps // 2], images, config.fd_size)}
    _print_table(f"Q4 interpolation smoothness ({config.pairs} test pairs, {config.steps} frames, lerp)",
                 [{"model": names[name], **row} for name, row in rows.items()])

    with book_style():
        fig = plt.figure(figsize=(7.4, 5.6))
        grid = fig.add_gridspec(2, 2, height_ratios=[1.0, 0.25 * 2 * config.shown_pairs + 0.2], hspace=0.45)
        profile, histogram = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        steps = torch.arange(1, config.steps)
        for (name, d), colour in zip(distances.items(), ("C3", "C0")):
            normalised = d / d.mean(1, keepdim=True)  # each pair's steps relative to its own mean step
            profile.plot(steps.numpy(), normalised.mean(0).numpy(), "o-", color=colour, markersize=3,
                         label=names[name])
            low, high = normalised.quantile(0.1, 0), normalised.quantile(0.9, 0)
            profile.fill_between(steps.numpy(), low.numpy(), high.numpy(), color=colour, alpha=0.15)
            histogram.hist((d.max(1).values / d.mean(1)).numpy(), bins=20, color=colour, alpha=0.6,
                           label=f"{names[name]}: mean {rows[name]['max_over_mean']:.2f}")
        profile.axhline(1.0, color="grey", linestyle=":", linewidth=1)
        profile.xaxis.set_major_locator(MaxNLocator(integer=True))
        profile.set(xlabel="step between frames k and k+1", ylabel="distance / pair's mean step",
                    title="(a) step sizes along the path (band: 10-90%)")
        profile.legend(frameon=False)
        histogram.set(xlabel="largest step / mean step (1 = even)", ylabel="pairs",
                      title=f"(b) unevenness over {config.pairs} pairs")
        histogram.legend(frameon=False)
        rows_shown, labels = [], []
        for k in range(config.shown_pairs):
            for name in distances:
                rows_shown.append(frames[name][k])
                labels.append(f"pair {k + 1}, {name.upper()}")
        examples_ax = image_rows(rows_shown, labels, ax=fig.add_subplot(grid[1, :]))
        middle_fds = ", ".join(f"{name.upper()} {row['middle_fd']:.3g}" for name, row in rows.items())
        examples_ax.set_title(f"(c) lerp between two codes; FD of the middle frames to test images: {middle_fds}")
        save_figure(fig, out / "q4_interp_smoothness.png")
    return {"q4_interp_smoothness": {
        "run": _run_info(config.data, config.smooth_model, list(models.values())), "pairs": config.pairs,
        "steps": config.steps, **rows}}


EXPERIMENTS = {
    "q1": (q1_beta_sweep, Q1Config, ("q1_beta_sweep", "q1_autoencoder_vs_vae_samples")),
    "q2": (q2_gradient_variance, Q2Config, ("q2_gradient_variance",)),
    "q3": (q3_posteriors, Q3Config, ("q3_posteriors",)),
    "q4_maps": (q4_latent_maps, Q4Config, ("q4_latent_maps",)),
    "q4_smoothness": (q4_interp_smoothness, Q4Config, ("q4_interp_smoothness",)),
}
