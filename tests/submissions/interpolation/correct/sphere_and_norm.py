"""A correct submission: slerp of the directions times lerp of the norms (same path for equal norms), with the
usual dot-product threshold; interpolate on a stacked batch."""
import torch
import torch.nn.functional as F


def lerp(z1, z2, steps):
    t = torch.linspace(0.0, 1.0, steps).unsqueeze(1)
    return torch.lerp(z1.unsqueeze(0), z2.unsqueeze(0), t)


def slerp(z1, z2, steps):
    n1, n2 = z1.norm(), z2.norm()
    u1, u2 = F.normalize(z1, dim=0), F.normalize(z2, dim=0)
    dot = torch.clamp(torch.dot(u1, u2), -1.0, 1.0)
    if dot > 0.9995:
        return lerp(z1, z2, steps)
    omega = torch.arccos(dot)
    t = torch.linspace(0.0, 1.0, steps).unsqueeze(1)
    direction = (torch.sin((1 - t) * omega) * u1 + torch.sin(t * omega) * u2) / torch.sin(omega)
    return direction * ((1 - t) * n1 + t * n2)


def interpolate(model, x1, x2, steps=10, method="linear"):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        mu, _ = model.encode(torch.stack((x1, x2)))
        path = slerp(mu[0], mu[1], steps) if method == "slerp" else lerp(mu[0], mu[1], steps)
        images = model.decode(path)
    model.train(was_training)
    return images
