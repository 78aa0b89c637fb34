"""t from arange(steps) / steps: the path stops one step short of z2.

fails lerp: stops short of 1
"""
import torch


def lerp(z1, z2, steps):
    t = (torch.arange(steps) / steps)[:, None]
    return (1 - t) * z1 + t * z2
