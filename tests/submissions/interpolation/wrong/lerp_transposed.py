"""One column per step instead of one row.

fails lerp: returned shape (D, steps)
"""
import torch


def lerp(z1, z2, steps):
    t = torch.linspace(0, 1, steps)
    return z1[:, None] * (1 - t) + z2[:, None] * t
