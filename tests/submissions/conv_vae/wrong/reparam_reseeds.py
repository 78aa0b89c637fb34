"""Reseeds inside the function, so every call draws the same noise.

fails reparameterize: returned the same z on two calls
"""
import torch


def reparameterize(mu, logvar):
    torch.manual_seed(0)
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
