"""Walking through latent space: linear and spherical interpolation between codes and between images.

The book's chapter on latent space compares two paths between codes z1 and z2:

    lerp:  z(t) = (1 - t) z1 + t z2                                        (straight line)
    slerp: z(t) = sin((1 - t) w) / sin(w) z1 + sin(t w) / sin(w) z2,       cos(w) = z1.z2 / (|z1| |z2|)

A straight line between two typical samples of N(0, I) in D dimensions passes through the low-norm
middle of the ball, where the prior puts almost no mass (|z| concentrates near sqrt(D)); the
great-circle path keeps the norm of equal-norm endpoints, so every frame looks like a typical code.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch
from torch import nn

# Below this |sin(w)| the great-circle formula divides by ~0; lerp and slerp then differ by O(w^2),
# so falling back to lerp loses nothing.
PARALLEL_EPS = 1e-4
# Below this norm a vector has no direction, so there is no great circle through it.
ZERO_NORM_EPS = 1e-12


class InterpolationError(ValueError):
    """Bad input to an interpolation function (one-line message saying what to fix)."""


def model_device(model: nn.Module) -> torch.device:
    """The device holding the model's parameters (CPU for a model without parameters)."""
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Run a block with the model in eval mode and without autograd; restore its training mode after.

    Eval mode matters: it freezes batch-norm statistics and dropout, so encoding the same image twice
    gives the same posterior mean.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def _as_code(z: torch.Tensor, name: str) -> torch.Tensor:
    """Accept a latent code of shape (D,) or (1, D); return it as (D,)."""
    if z.dim() == 2 and z.shape[0] == 1:
        z = z[0]
    if z.dim() != 1:
        raise InterpolationError(
            f"{name} must be one latent code of shape (D,) or (1, D), got {tuple(z.shape)}; "
            "interpolate between single codes, not batches"
        )
    return z


def _check_pair(z1: torch.Tensor, z2: torch.Tensor, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    z1, z2 = _as_code(z1, "z1"), _as_code(z2, "z2")
    if z1.shape != z2.shape:
        raise InterpolationError(f"z1 and z2 must have the same size, got {tuple(z1.shape)} and {tuple(z2.shape)}")
    if steps < 2:
        raise InterpolationError(f"steps must be >= 2 (the path includes both endpoints), got {steps}")
    return z1, z2


def lerp(z1: torch.Tensor, z2: torch.Tensor, steps: int) -> torch.Tensor:
    """Straight-line interpolation between two codes.

    Inputs:  z1, z2 - (D,) latent codes ((1, D) is accepted too); steps - number of points, >= 2.
    Outputs: (steps, D); row 0 is z1, row steps-1 is z2, t evenly spaced in [0, 1].
    """
    z1, z2 = _check_pair(z1, z2, steps)
    t = torch.linspace(0.0, 1.0, steps, dtype=z1.dtype, device=z1.device)[:, None]  # (steps, 1)
    return (1.0 - t) * z1 + t * z2  # z(t) = (1 - t) z1 + t z2, (steps, D)


def slerp(z1: torch.Tensor, z2: torch.Tensor, steps: int) -> torch.Tensor:
    """Spherical (great-circle) interpolation between two codes.

    Inputs:  z1, z2 - (D,) latent codes ((1, D) is accepted too); steps - number of points, >= 2.
    Outputs: (steps, D); row 0 is z1, row steps-1 is z2. For equal-norm endpoints every row keeps that
             norm. Falls back to lerp when there is no unique great circle: when z1 and z2 are (nearly)
             parallel or antipodal (|sin w| < 1e-4; for z1 = -z2 the path therefore goes straight
             through the origin) or when either vector is ~0. Never returns NaN.
    """
    z1, z2 = _check_pair(z1, z2, steps)
    norm1, norm2 = z1.norm(), z2.norm()
    if norm1 < ZERO_NORM_EPS or norm2 < ZERO_NORM_EPS:
        return lerp(z1, z2, steps)
    # Rounding can push the cosine just outside [-1, 1], where acos is NaN.
    cos_w = (z1 @ z2 / (norm1 * norm2)).clamp(-1.0, 1.0)
    w = torch.acos(cos_w)
    sin_w = torch.sin(w)
    if sin_w.abs() < PARALLEL_EPS:
        return lerp(z1, z2, steps)
    t = torch.linspace(0.0, 1.0, steps, dtype=z1.dtype, device=z1.device)[:, None]  # (steps, 1)
    # z(t) = sin((1 - t) w) / sin(w) z1 + sin(t w) / sin(w) z2
    return torch.sin((1.0 - t) * w) / sin_w * z1 + torch.sin(t * w) / sin_w * z2  # (steps, D)


PATHS = {"linear": lerp, "slerp": slerp}


def latent_path(z1: torch.Tensor, z2: torch.Tensor, steps: int, method: str = "linear") -> torch.Tensor:
    """lerp ("linear") or slerp ("slerp") by name; (steps, D)."""
    if method not in PATHS:
        raise InterpolationError(f"method must be one of {sorted(PATHS)}, got {method!r}")
    return PATHS[method](z1, z2, steps)


def _check_image(x: torch.Tensor, name: str) -> torch.Tensor:
    if x.dim() != 3:
        raise InterpolationError(
            f"{name} must be one image of shape (C, H, W), got {tuple(x.shape)}; use x[0] to take one from a batch"
        )
    return x


def interpolate(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor, steps: int = 10,
                method: str = "linear") -> torch.Tensor:
    """Decode a path between the posterior means of two images.

    Inputs:  model - a VAE with encode(x) -> (mu, logvar) and decode(z) -> images;
             x1, x2 - images (C, H, W) in [0, 1]; steps >= 2; method - "linear" (lerp) or "slerp".
    Outputs: (steps, C, H, W) on the model's device; row 0 = decode(mu(x1)), last row = decode(mu(x2)).
             Deterministic: uses the posterior means, no sampling, in eval mode (the model's training
             mode is restored afterwards).
    """
    x1, x2 = _check_image(x1, "x1"), _check_image(x2, "x2")
    device = model_device(model)
    with evaluating(model):
        mu, _ = model.encode(torch.stack([x1, x2]).to(device))  # (2, D)
        z = latent_path(mu[0], mu[1], steps, method)  # (steps, D)
        return model.decode(z)  # (steps, C, H, W)


def interpolation_grid(model: nn.Module, pairs: Sequence[tuple[torch.Tensor, torch.Tensor]], steps: int = 10,
                       method: str = "linear") -> torch.Tensor:
    """Interpolations for several image pairs, stacked row after row (for make_grid(nrow=steps)).

    Inputs:  pairs - sequence of (x1, x2) images (C, H, W); steps, method - as in interpolate.
    Outputs: (len(pairs) * steps, C, H, W) on the model's device.
    """
    if len(pairs) == 0:
        raise InterpolationError("pairs is empty; pass at least one (x1, x2) image pair")
    return torch.cat([interpolate(model, x1, x2, steps, method) for x1, x2 in pairs])
