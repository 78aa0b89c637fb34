"""Interpolates between random samples of the posteriors instead of their means.

fails interpolate: the path must start at mu(x1)
"""
import torch


def interpolate(model, x1, x2, steps=10, method="linear"):
    with torch.no_grad():
        mu, logvar = model.encode(torch.stack([x1, x2]))
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        path = slerp(z[0], z[1], steps) if method == "slerp" else lerp(z[0], z[1], steps)
        return model.decode(path)
