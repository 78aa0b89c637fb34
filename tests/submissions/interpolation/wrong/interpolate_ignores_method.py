"""Always the straight line, whatever method says.

fails interpolate: ignores method='slerp'
"""
import torch


def interpolate(model, x1, x2, steps=10, method="linear"):
    with torch.no_grad():
        mu, _ = model.encode(torch.stack([x1, x2]))
        return model.decode(lerp(mu[0], mu[1], steps))
