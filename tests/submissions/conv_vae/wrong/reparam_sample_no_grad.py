"""Sampling with .sample(), which cuts the graph: no gradient reaches the encoder.

fails reparameterize: no gradient reaches mu and logvar
"""
import torch


def reparameterize(mu, logvar):
    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).sample()
