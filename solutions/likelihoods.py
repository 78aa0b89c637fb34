"""Decoder likelihoods p(x|z) and the negative ELBO in bits per dimension.

Binary cross-entropy (the assignment's `vae_loss`) treats each pixel value in [0, 1] as the
probability of a coin flip; it is a fine training signal but not a probability of the 8-bit image,
so it cannot compare models. A discretized logistic (Salimans et al., 2017, "PixelCNN++", eq. 2;
Kingma et al., 2016, "Improved Variational Inference with Inverse Autoregressive Flow") puts a
logistic density on each sub-pixel and integrates it over the pixel's bin of width 1/255, giving a
real probability mass function over {0, 1/255, ..., 1}. Then -ELBO / (D ln 2) is an upper bound on
the bits needed per sub-pixel value: the number every CIFAR-10 paper reports.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from solutions.vae import kl_divergence, reparameterize

HALF_BIN = 0.5 / 255  # an 8-bit value k stands for the interval [k/255 - HALF_BIN, k/255 + HALF_BIN]


def discretized_logistic_log_prob(x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """log P(x) for 8-bit values under a logistic(mean, scale) integrated over each value's bin.

    Inputs:  x (B, C, H, W), multiples of 1/255 in [0, 1]; mean (B, C, H, W) in [0, 1];
             log_scale broadcastable to x (per channel (C, 1, 1) or per pixel (B, C, H, W)).
    Outputs: (B, C, H, W) log-probabilities in nats. The edge bins take all the mass beyond them,
             so the 256 probabilities sum to one.
    """
    inv_scale = torch.exp(-log_scale)
    centered = x - mean
    upper = inv_scale * (centered + HALF_BIN)  # standardized upper edge of the bin
    lower = inv_scale * (centered - HALF_BIN)
    # P(bin) = sigmoid(upper) - sigmoid(lower); the edge bins extend to -inf and +inf.
    log_cdf_upper = upper - F.softplus(upper)  # log sigmoid(upper): the bin of value 0
    log_survival_lower = -F.softplus(lower)  # log(1 - sigmoid(lower)): the bin of value 255
    mass = torch.sigmoid(upper) - torch.sigmoid(lower)
    # Far in the tails the difference underflows; there the density at the centre times the bin width is exact
    # to first order: log pdf(c) = c' - log s - 2 softplus(c') with c' = centered / s.
    middle = inv_scale * centered
    log_density_times_width = middle - log_scale - 2 * F.softplus(middle) + math.log(2 * HALF_BIN)
    log_mass = torch.where(mass > 1e-5, torch.log(mass.clamp_min(1e-12)), log_density_times_width)
    return torch.where(x < HALF_BIN, log_cdf_upper, torch.where(x > 1 - HALF_BIN, log_survival_lower, log_mass))


class DiscretizedLogistic(nn.Module):
    """p(x|z) = prod over sub-pixels of a discretized logistic centred on the decoder's output.

    The scale is one learned number per colour channel.
    """

    def __init__(self, channels: int = 3, init_log_scale: float = -3.0):
        super().__init__()
        self.log_scale = nn.Parameter(torch.full((channels, 1, 1), init_log_scale))

    def forward(self, model: nn.Module, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) per image, in nats: (B,)."""
        return -discretized_logistic_log_prob(x, model.decode(z).float(), self.log_scale).flatten(1).sum(1)


class Bernoulli(nn.Module):
    """The assignment's binary cross-entropy, as a per-image 'negative log-likelihood' in nats.

    Not a distribution over 8-bit images, so its numbers are not comparable to bits/dim.
    """

    def forward(self, model: nn.Module, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy(model.decode(z), x, reduction="none").flatten(1).sum(1)


LIKELIHOODS = {"logistic": DiscretizedLogistic, "bernoulli": Bernoulli}


def negative_elbo(model: nn.Module, likelihood: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One-sample estimate of the two terms of -ELBO(x) for each image.

    Inputs:  x (B, C, H, W) in [0, 1] (multiples of 1/255 for the discretized likelihood).
    Outputs: recon (B,) = -log p(x|z) with z ~ q(z|x), and kl (B,) = KL(q(z|x) || p(z)), both in nats.

    A model with several levels of latents and its own output distribution (solutions.hvae.HierarchicalVAE)
    computes both terms itself in `elbo_terms(x)`.
    """
    if hasattr(model, "elbo_terms"):
        return model.elbo_terms(x)
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar)
    return likelihood(model, z, x), kl_divergence(mu, logvar)


def bits_per_dim(nats_per_image: torch.Tensor | float, dims: int) -> torch.Tensor | float:
    """Convert a negative log-likelihood in nats per image into bits per sub-pixel: nats / (D ln 2)."""
    return nats_per_image / (dims * math.log(2))
