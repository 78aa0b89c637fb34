"""The assignment contract: the VAE building blocks students write in `conv_vae`.

This module is the single source of truth for the reference answers: the instructor notebooks
embed these functions verbatim, the book explains them and the autograder's tests check them.

The loss follows Kingma & Welling (2014), "Auto-Encoding Variational Bayes", eq. (10) and
Appendix B: maximise the evidence lower bound

    ELBO(x) = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z)),   q(z|x) = N(mu(x), diag(sigma^2(x))), p(z) = N(0, I)

with a one-sample Monte-Carlo estimate of the first term and the closed-form Gaussian KL.
Images are floats in [0, 1] of shape (B, C, H, W); latents are (B, D).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Draw z ~ N(mu, exp(logvar)) as a differentiable function of (mu, logvar).

    Inputs:  mu (B, D) posterior means; logvar (B, D) posterior log-variances log(sigma^2).
    Outputs: z (B, D). The noise eps is the only random part, so gradients reach mu and logvar.
    """
    std = torch.exp(0.5 * logvar)  # sigma = exp(log(sigma^2) / 2)
    eps = torch.randn_like(std)  # eps ~ N(0, I)
    return mu + eps * std  # z = mu + sigma * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)), one value per sample.

    Inputs:  mu (B, D), logvar (B, D).
    Outputs: (B,) in nats: -1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)  (Kingma & Welling, App. B).
    """
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def vae_loss(x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0):
    """Negative ELBO with a Bernoulli (binary cross-entropy) decoder, averaged over the batch.

    Inputs:  x_hat (B, C, H, W) decoder means in [0, 1]; x (B, C, H, W) images in [0, 1];
             mu, logvar (B, D); beta weights the KL term (beta = 1 is the ELBO; Higgins et al., 2017).
    Outputs: (loss, recon, kl), three scalars: recon = BCE summed over the pixel values of an image and
             averaged over the batch, kl = kl_divergence averaged over the batch, loss = recon + beta * kl.
    """
    batch_size = x.shape[0]
    recon = F.binary_cross_entropy(x_hat, x, reduction="sum") / batch_size  # -E_q[log p(x|z)], one z sample
    kl = kl_divergence(mu, logvar).mean()
    return recon + beta * kl, recon, kl


class FCVAE(nn.Module):
    """A fully connected VAE: the image is flattened, so no pixel knows where its neighbours are.

    Inputs:  x (B, C, S, S) in [0, 1].   Latent: z (B, latent_dim).
    """

    def __init__(self, latent_dim: int = 128, in_channels: int = 3, image_size: int = 32, hidden_dim: int = 1024):
        super().__init__()
        self.latent_dim = latent_dim
        self.image_shape = (in_channels, image_size, image_size)
        pixels = in_channels * image_size * image_size
        self.encoder = nn.Sequential(
            nn.Flatten(),  # (B, C*S*S)
            nn.Linear(pixels, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
        )
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, pixels),
            nn.Unflatten(1, self.image_shape),  # (B, C, S, S) logits
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)  # (B, hidden_dim)
        return self.to_mu(h), self.to_logvar(h)  # (B, D), (B, D)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))  # (B, C, S, S) in [0, 1]

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


class ConvVAE(nn.Module):
    """A convolutional VAE: stride-2 convolutions halve the image down to 4x4, transposed convolutions
    mirror them back up (the DCGAN layout of Radford et al., 2016).

    Inputs:  x (B, C, S, S) in [0, 1] with S in {32, 64}.   Latent: z (B, latent_dim).
    widths:  channels after each stride-2 stage; one stage per halving from S to 4
             (default (64, 128, 256) at S=32 and (32, 64, 128, 256) at S=64).
    """

    def __init__(self, latent_dim: int = 128, in_channels: int = 3, image_size: int = 32,
                 widths: tuple[int, ...] | None = None):
        super().__init__()
        if image_size not in (32, 64):
            raise ValueError(f"ConvVAE supports image_size 32 or 64, got {image_size}")
        stages = int(math.log2(image_size // 4))  # 32 -> 3 stages, 64 -> 4 stages, each halving
        widths = tuple(widths or (32, 64, 128, 256)[-stages:])
        if len(widths) != stages:
            raise ValueError(f"image_size {image_size} needs {stages} widths (one per halving to 4x4), got {widths}")
        self.latent_dim = latent_dim
        self.image_size = image_size

        encoder, channels = [], in_channels
        for width in widths:  # (B, channels, s, s) -> (B, width, s/2, s/2)
            encoder += [nn.Conv2d(channels, width, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            channels = width
        self.encoder = nn.Sequential(*encoder, nn.Flatten())  # (B, widths[-1] * 4 * 4)
        feature_dim = widths[-1] * 4 * 4
        self.to_mu = nn.Linear(feature_dim, latent_dim)
        self.to_logvar = nn.Linear(feature_dim, latent_dim)

        decoder = [nn.Linear(latent_dim, feature_dim), nn.Unflatten(1, (widths[-1], 4, 4)), nn.ReLU()]
        for width, next_width in zip(widths[::-1], widths[::-1][1:]):  # (B, width, s, s) -> (B, next, 2s, 2s)
            decoder += [nn.ConvTranspose2d(width, next_width, kernel_size=4, stride=2, padding=1), nn.ReLU()]
        decoder.append(nn.ConvTranspose2d(widths[0], in_channels, kernel_size=4, stride=2, padding=1))
        self.decoder = nn.Sequential(*decoder)  # (B, C, S, S) logits

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)  # (B, widths[-1] * 16)
        return self.to_mu(h), self.to_logvar(h)  # (B, D), (B, D)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))  # (B, C, S, S) in [0, 1]

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)  # a fresh sample each call: the model is stochastic in training
        return self.decode(z), mu, logvar


def train_vae(model: nn.Module, loader, epochs: int = 1, lr: float = 1e-3, device="cpu", beta: float = 1.0) -> list[float]:
    """Train `model` with Adam on the negative ELBO of `vae_loss`.

    Inputs:  loader yields (x, y) pairs or bare image tensors x (B, C, H, W) in [0, 1].
    Outputs: one number per epoch: the mean loss per sample (nats per image) over that epoch.
    """
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for batch in loader:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            x = x.to(device)
            x_hat, mu, logvar = model(x)
            loss, _, _ = vae_loss(x_hat, x, mu, logvar, beta=beta)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * x.shape[0]  # loss is a batch mean: weight it back by the batch size
            count += x.shape[0]
        history.append(total / count)
    return history
