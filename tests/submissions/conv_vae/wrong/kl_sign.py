"""The KL with its sign flipped.

fails kl_divergence: KL is never negative
"""
import torch


def kl_divergence(mu, logvar):
    return 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
