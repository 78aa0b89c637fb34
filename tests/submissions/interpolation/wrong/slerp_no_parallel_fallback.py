"""The great-circle formula without a fallback: 0/0 for parallel vectors.

fails slerp: returned NaN
"""
import torch


def slerp(z1, z2, steps):
    cos = torch.dot(z1 / z1.norm(), z2 / z2.norm()).clamp(-1, 1)
    omega = torch.acos(cos)
    t = torch.linspace(0, 1, steps)[:, None]
    return torch.sin((1 - t) * omega) / torch.sin(omega) * z1 + torch.sin(t * omega) / torch.sin(omega) * z2
