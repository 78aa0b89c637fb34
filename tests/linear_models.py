"""Tiny VAEs with known weights, so latent-space tools can be checked against hand computation."""
from __future__ import annotations

import torch
from torch import nn


class LinearVAE(nn.Module):
    """encode(x) = (A x, constant logvar), decode(z) = B z reshaped to image_shape.

    Inputs:  A - (D, C*H*W) encoder weights; B - (C*H*W, D) decoder weights; image_shape - (C, H, W);
             logvar - the constant posterior log-variance.
    """

    def __init__(self, A: torch.Tensor, B: torch.Tensor, image_shape: tuple[int, int, int], logvar: float = 0.0):
        super().__init__()
        self.A = nn.Parameter(A.clone())
        self.B = nn.Parameter(B.clone())
        self.image_shape = image_shape
        self.logvar = logvar
        self.latent_dim = A.shape[0]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = x.flatten(1) @ self.A.T  # (B, D)
        return mu, torch.full_like(mu, self.logvar)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.B.T).view(-1, *self.image_shape)


def identity_decoder_vae(latent_dim: int) -> LinearVAE:
    """decode(z) is z itself, shaped as a (1, 1, D) image; encode reads a (1, 1, D) image back as its code."""
    eye = torch.eye(latent_dim, dtype=torch.float64)
    return LinearVAE(eye, eye, (1, 1, latent_dim))


def random_linear_vae(latent_dim: int = 3, image_shape=(1, 2, 2), logvar: float = 0.0, seed: int = 0) -> LinearVAE:
    generator = torch.Generator().manual_seed(seed)
    pixels = image_shape[0] * image_shape[1] * image_shape[2]
    A = torch.randn(latent_dim, pixels, generator=generator, dtype=torch.float64)
    B = torch.randn(pixels, latent_dim, generator=generator, dtype=torch.float64)
    return LinearVAE(A, B, image_shape, logvar)
