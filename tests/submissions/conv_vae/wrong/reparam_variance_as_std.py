"""exp(logvar), the variance, used as the standard deviation.

fails reparameterize: z's spread matches exp(logvar), not exp(0.5 * logvar)
"""
import torch


def reparameterize(mu, logvar):
    return mu + torch.randn_like(mu) * torch.exp(logvar)
