"""BCE averaged over every pixel value (PyTorch's default reduction) instead of summed per image.

fails vae_loss: recon is averaged over pixels
"""
import torch.nn.functional as F


def vae_loss(x_hat, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy(x_hat, x)
    kl = kl_divergence(mu, logvar).mean()
    return recon + beta * kl, recon, kl
