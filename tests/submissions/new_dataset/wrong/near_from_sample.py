"""Starts from a posterior sample instead of the posterior mean.

fails sample_near: starts from a sample of the posterior, not its mean
"""
import torch


def sample_near(model, x, n, scale=0.5, generator=None):
    with torch.no_grad():
        mu, logvar = model.encode(x.unsqueeze(0))
        std = torch.exp(0.5 * logvar)
        start = mu + std * torch.randn(n, model.latent_dim, generator=generator)
        return model.decode(start + scale * torch.randn(n, model.latent_dim, generator=generator))
