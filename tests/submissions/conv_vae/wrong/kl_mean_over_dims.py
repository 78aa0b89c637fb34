"""The KL averaged over the latent dimensions instead of summed.

fails kl_divergence: averages over the latent dimensions
"""
import torch


def kl_divergence(mu, logvar):
    return -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
