"""logvar used as if it were the standard deviation.

fails reparameterize: are you passing log-variance where std is expected?
"""
import torch


def reparameterize(mu, logvar):
    return mu + torch.randn_like(mu) * logvar
