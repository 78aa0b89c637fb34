"""x and x_hat swapped in the cross-entropy.

fails vae_loss: recon looks like BCE(x, x_hat)
"""
import torch.nn.functional as F


def vae_loss(x_hat, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy(x, x_hat, reduction="sum") / x.shape[0]
    kl = kl_divergence(mu, logvar).mean()
    return recon + beta * kl, recon, kl
