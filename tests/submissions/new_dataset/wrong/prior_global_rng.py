"""Draws from the global random state, ignoring the generator: seeded figures are not reproducible.

fails sample_prior: with the same generator seed differ
"""
import torch


def sample_prior(model, n, temperature=1.0, generator=None):
    z = temperature * torch.randn(n, model.latent_dim)
    with torch.no_grad():
        return model.decode(z)
