"""Neighbourhood radius fixed at 0.5 whatever scale says.

fails sample_near: ignores scale (the codes spread by the default 0.5)
"""
import torch


def sample_near(model, x, n, scale=0.5, generator=None):
    with torch.no_grad():
        mu, _ = model.encode(x.unsqueeze(0))
        return model.decode(mu + 0.5 * torch.randn(n, model.latent_dim, generator=generator))
