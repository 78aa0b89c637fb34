"""temperature never used.

fails sample_prior: temperature is ignored
"""
import torch


def sample_prior(model, n, temperature=1.0, generator=None):
    z = torch.randn(n, model.latent_dim, generator=generator)
    with torch.no_grad():
        return model.decode(z)
