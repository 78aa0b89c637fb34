"""temperature treated as the variance: the codes are scaled by its square root.

fails sample_prior: you used sqrt(temperature)
"""
import torch


def sample_prior(model, n, temperature=1.0, generator=None):
    z = temperature ** 0.5 * torch.randn(n, model.latent_dim, generator=generator)
    with torch.no_grad():
        return model.decode(z)
