"""A small VAE with known weights, for the checks of functions that take a model (train_vae, interpolate,
sample_prior, ...).

It is built identically in the sandbox and in the parent (weights drawn from its seed), so the parent can
recompute exactly what a student's function should have produced with it, and it logs how it was used, so a
judge can see which codes were decoded and how the parameters moved.
"""
from __future__ import annotations

import torch
from torch import nn


class ProbeVAE(nn.Module):
    """encode: h = tanh(W1 x + b1), mu = W_mu h + b_mu, logvar = W_lv h + b_lv + logvar_shift
    decode:  sigmoid(W_d z + b_d), reshaped to image_shape
    forward: decode(mu + exp(0.5 logvar) * eps), eps from the model's own generator: fresh noise every call
             that the student's use of the global random state cannot change.

    The encoder is nonlinear on purpose: the mean of the codes of several images then differs from the code
    of their mean image.
    log: "decoded" (each z given to decode), "forwards" ((x, x_hat, mu, logvar) per call), "parameters" (all
         parameters, flattened, at each forward call).
    """

    def __init__(self, latent_dim: int = 4, image_shape=(3, 8, 8), hidden: int = 16, seed: int = 0,
                 logvar_shift: float = 0.0):
        super().__init__()
        self.latent_dim = latent_dim
        self.image_shape = tuple(image_shape)
        pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        self.hidden = nn.Linear(pixels, hidden)
        self.to_mu = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)
        self.to_image = nn.Linear(latent_dim, pixels)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for layer in (self.hidden, self.to_mu, self.to_logvar, self.to_image):
                scale = 1.5 / layer.in_features ** 0.5  # keeps tanh and sigmoid away from saturation
                layer.weight.copy_(scale * torch.randn(layer.weight.shape, generator=generator))
                layer.bias.copy_(0.1 * torch.randn(layer.bias.shape, generator=generator))
            self.to_logvar.bias += logvar_shift
        self.noise = torch.Generator().manual_seed(seed + 1)
        self.log = {"decoded": [], "forwards": [], "parameters": []}

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(f"model.encode expects a batch of images (B, {', '.join(map(str, self.image_shape))}), "
                             f"got {tuple(x.shape)}; add a batch dimension with x.unsqueeze(0)")
        h = torch.tanh(self.hidden(x.flatten(1)))  # (B, hidden)
        return self.to_mu(h), self.to_logvar(h)  # (B, D), (B, D)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"model.decode expects a batch of codes (B, {self.latent_dim}), got {tuple(z.shape)}")
        self.log["decoded"].append(z.detach().clone())
        return torch.sigmoid(self.to_image(z)).view(-1, *self.image_shape)  # (B, C, H, W) in (0, 1)

    def forward(self, x: torch.Tensor):
        self.log["parameters"].append(torch.cat([p.detach().flatten() for p in self.parameters()]))
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=self.noise).to(mu)
        x_hat = self.decode(mu + torch.exp(0.5 * logvar) * eps)
        self.log["forwards"].append(tuple(t.detach().clone() for t in (x, x_hat, mu, logvar)))
        return x_hat, mu, logvar

    def decoded(self) -> torch.Tensor | None:
        """Every code decoded so far, in order, as one (N, D) tensor (None if decode was never called); clears it."""
        codes, self.log["decoded"] = self.log["decoded"], []
        return torch.cat(codes) if codes else None
