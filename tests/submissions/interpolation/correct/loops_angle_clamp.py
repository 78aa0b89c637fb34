"""A correct submission: lerp by a loop, slerp through the clamped angle, interpolate image by image."""
import math

import torch


def lerp(z1, z2, steps):
    rows = []
    for i in range(steps):
        t = i / (steps - 1)
        rows.append(z1 * (1 - t) + z2 * t)
    return torch.stack(rows)


def slerp(z1, z2, steps):
    cos = (z1 @ z2) / (z1.norm() * z2.norm())
    omega = math.acos(max(-1.0, min(1.0, cos.item())))
    if abs(math.sin(omega)) < 1e-6:
        return lerp(z1, z2, steps)
    rows = []
    for i in range(steps):
        t = i / (steps - 1)
        a = math.sin((1 - t) * omega) / math.sin(omega)
        b = math.sin(t * omega) / math.sin(omega)
        rows.append(a * z1 + b * z2)
    return torch.stack(rows)


@torch.no_grad()
def interpolate(model, x1, x2, steps=10, method="linear"):
    model.eval()
    mu1 = model.encode(x1.unsqueeze(0))[0]
    mu2 = model.encode(x2.unsqueeze(0))[0]
    path = {"linear": lerp, "slerp": slerp}[method](mu1[0], mu2[0], steps)
    images = [model.decode(z.unsqueeze(0))[0] for z in path]
    return torch.stack(images)
