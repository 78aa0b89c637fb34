"""Interpolates on the unit sphere and forgets the norms: endpoints are not z1, z2.

fails slerp: the first row must be z1
"""
import torch


def slerp(z1, z2, steps):
    a, b = z1 / z1.norm(), z2 / z2.norm()
    omega = torch.acos(torch.dot(a, b).clamp(-1, 1))
    t = torch.linspace(0, 1, steps)[:, None]
    if torch.sin(omega).abs() < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
