"""beta accepted but never used.

fails vae_loss: beta is ignored
"""
import torch.nn.functional as F


def vae_loss(x_hat, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy(x_hat, x, reduction="sum") / x.shape[0]
    kl = kl_divergence(mu, logvar).mean()
    return recon + kl, recon, kl
