"""Exploring a trained VAE's latent space: prior samples, neighbourhoods, traversals, attribute directions.

Every function takes a model with .latent_dim, .encode(x) -> (mu, logvar) and .decode(z) -> images,
runs it in eval mode without autograd (restoring its training mode after), and draws all randomness
on the CPU from `generator` when one is given, so a seeded figure is the same on CPU and GPU.
"""
from __future__ import annotations

from typing import Iterable, Sequence, Union

import torch
from torch import nn

from solutions.interpolate import evaluating, model_device
from solutions.vae import kl_divergence

# A tensor of images (N, C, H, W), or an iterable of batches: (x, y) pairs or bare image tensors.
Images = Union[torch.Tensor, Iterable]


class ExploreError(ValueError):
    """Bad input to a latent-space exploration function (one-line message saying what to fix)."""


def _standard_normal(model: nn.Module, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """eps ~ N(0, I), shape (n, latent_dim), drawn on the CPU (from `generator` when given), then moved
    to the model's device and dtype."""
    eps = torch.randn(n, model.latent_dim, generator=generator)
    return eps.to(next(model.parameters()))


def _as_code(z: torch.Tensor, latent_dim: int) -> torch.Tensor:
    """Accept a code (D,) or (1, D); return (D,)."""
    if z.dim() == 2 and z.shape[0] == 1:
        z = z[0]
    if z.shape != (latent_dim,):
        raise ExploreError(f"z must be one latent code of shape ({latent_dim},) or (1, {latent_dim}), "
                           f"got {tuple(z.shape)}")
    return z


def _as_image_batch(x: torch.Tensor) -> torch.Tensor:
    """Accept one image (C, H, W) or (1, C, H, W); return (1, C, H, W)."""
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4 or x.shape[0] != 1:
        raise ExploreError(f"x must be one image of shape (C, H, W), got {tuple(x.shape)}")
    return x


def sample_prior(model: nn.Module, n: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Decode n codes from the (tempered) prior z ~ N(0, temperature^2 I).

    Inputs:  n - number of samples; temperature - std of the prior draw (< 1 trades variety for
             typicality); generator - optional torch.Generator (CPU) for reproducible samples.
    Outputs: (n, C, H, W) on the model's device.
    """
    if temperature < 0:
        raise ExploreError(f"temperature is a standard deviation and must be >= 0, got {temperature}")
    z = temperature * _standard_normal(model, n, generator)  # (n, D)
    with evaluating(model):
        return model.decode(z)


def sample_near(model: nn.Module, x: torch.Tensor, n: int, scale: float = 0.5,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Decode n codes scattered around an image's posterior mean: z = mu(x) + scale * eps, eps ~ N(0, I).

    Inputs:  x - one image (C, H, W); n - number of samples; scale - radius of the neighbourhood.
    Outputs: (n, C, H, W) on the model's device.
    """
    device = model_device(model)
    eps = _standard_normal(model, n, generator)  # (n, D)
    with evaluating(model):
        mu, _ = model.encode(_as_image_batch(x).to(device))  # (1, D)
        return model.decode(mu + scale * eps)


def traverse(model: nn.Module, z: torch.Tensor, dim: int, values: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """Decode copies of z with one coordinate swept through `values` (z itself is not modified).

    Inputs:  z - one code (D,) or (1, D); dim - coordinate in [0, D); values - the settings for z[dim].
    Outputs: (len(values), C, H, W) on the model's device.
    """
    z = _as_code(z, model.latent_dim)
    if not 0 <= dim < model.latent_dim:
        raise ExploreError(f"dim must be in [0, {model.latent_dim}), got {dim}")
    device = model_device(model)
    values = torch.as_tensor(values, dtype=z.dtype)
    codes = z.detach().to(device).repeat(len(values), 1)  # (V, D), a new tensor: z stays untouched
    codes[:, dim] = values.to(device)
    with evaluating(model):
        return model.decode(codes)


def _image_batches(images: Images, batch_size: int) -> Iterable[torch.Tensor]:
    """Yield image batches (B, C, H, W) from a tensor (chunked) or from a loader of (x, y) / x."""
    if isinstance(images, torch.Tensor):
        if images.dim() != 4:
            raise ExploreError(f"images must be a batch (N, C, H, W), got {tuple(images.shape)}")
        yield from images.split(batch_size)
        return
    for batch in images:
        yield batch[0] if isinstance(batch, (tuple, list)) else batch


def encode_all(model: nn.Module, images: Images, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior parameters of many images, batch by batch.

    Inputs:  images - tensor (N, C, H, W) or an iterable of batches ((x, y) or x).
    Outputs: (mu, logvar), each (N, D) on the CPU.
    """
    device = model_device(model)
    mus, logvars = [], []
    with evaluating(model):
        for x in _image_batches(images, batch_size):
            mu, logvar = model.encode(x.to(device))
            mus.append(mu.cpu())
            logvars.append(logvar.cpu())
    if not mus:
        raise ExploreError("no images to encode: the tensor or loader is empty")
    return torch.cat(mus), torch.cat(logvars)


def latent_means(model: nn.Module, images: Images, batch_size: int = 256) -> torch.Tensor:
    """Posterior means mu(x) of many images: (N, D) on the CPU."""
    return encode_all(model, images, batch_size)[0]


def attribute_direction(model: nn.Module, x_with: Images, x_without: Images) -> torch.Tensor:
    """The latent direction of an attribute: mean mu of images with it minus mean mu of images without it.

    Inputs:  x_with, x_without - images (N, C, H, W) (or loaders) with / without the attribute.
    Outputs: (D,) on the CPU.
    """
    return latent_means(model, x_with).mean(0) - latent_means(model, x_without).mean(0)


def apply_direction(model: nn.Module, x: torch.Tensor, direction: torch.Tensor,
                    alphas: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """Decode mu(x) + alpha * direction for each alpha (e.g. add or remove a smile).

    Inputs:  x - one image (C, H, W); direction - (D,); alphas - the step sizes.
    Outputs: (len(alphas), C, H, W) on the model's device.
    """
    direction = _as_code(direction, model.latent_dim)
    device = model_device(model)
    alphas = torch.as_tensor(alphas, dtype=direction.dtype).to(device)[:, None]  # (A, 1)
    with evaluating(model):
        mu, _ = model.encode(_as_image_batch(x).to(device))  # (1, D)
        return model.decode(mu + alphas * direction.to(device))


def pca_2d(latents: torch.Tensor) -> torch.Tensor:
    """Project codes onto their two principal components (exact SVD of the centred data).

    Inputs:  latents - (N, D) with N >= 2, D >= 2.
    Outputs: (N, 2); each component's sign is fixed so that its largest loading is positive,
             which makes the picture independent of the SVD implementation.
    """
    if latents.dim() != 2 or latents.shape[0] < 2 or latents.shape[1] < 2:
        raise ExploreError(f"latents must be (N, D) with N >= 2 and D >= 2, got {tuple(latents.shape)}")
    centred = latents - latents.mean(0)  # (N, D)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)  # rows of vh: principal directions
    components = vh[:2]  # (2, D)
    largest = components.gather(1, components.abs().argmax(1, keepdim=True))  # (2, 1)
    components = components * torch.sign(largest)
    return centred @ components.T  # (N, 2)


def kl_terms(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z_d | x) || N(0, 1)) of every image and latent dimension: (N, D) in nats; rows sum to kl_divergence."""
    n, d = mu.shape
    # kl_divergence sums over the last dim; giving it one-dimensional codes yields the per-dim terms.
    return kl_divergence(mu.reshape(-1, 1), logvar.reshape(-1, 1)).reshape(n, d)


def kl_per_dimension(model: nn.Module, images: Images, batch_size: int = 256) -> torch.Tensor:
    """Average KL(q(z_d | x) || N(0, 1)) of each latent dimension over the images: (D,) in nats.

    Dimensions with ~0 KL are "inactive": the encoder ignores the image there (posterior collapse).
    """
    return kl_terms(*encode_all(model, images, batch_size)).mean(0)


def most_active_dims(model: nn.Module, images: Images, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k latent dimensions with the largest average KL over the images.

    Outputs: (dims, kl) - LongTensor (k,) of dimension indices, most active first, and their KL (k,) in nats.
    """
    if not 1 <= k <= model.latent_dim:
        raise ExploreError(f"k must be in [1, {model.latent_dim}], got {k}")
    kl, dims = kl_per_dimension(model, images).topk(k)
    return dims, kl
