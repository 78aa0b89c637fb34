"""A correct submission with torchvision.transforms.v2 (resize the short side, then centre crop) and
vectorised latent-space code."""
import torch
from torchvision.transforms import v2


def celeba_transform(image_size=64):
    return v2.Compose([
        v2.ToImage(),
        v2.Resize(image_size, antialias=True),
        v2.CenterCrop(image_size),
        v2.ToDtype(torch.float32, scale=True),
    ])


def sample_prior(model, n, temperature=1.0, generator=None):
    device = next(model.parameters()).device
    z = temperature * torch.randn((n, model.latent_dim), generator=generator).to(device)
    model.eval()
    with torch.inference_mode():
        return model.decode(z)


def sample_near(model, x, n, scale=0.5, generator=None):
    with torch.no_grad():
        mu = model.encode(x[None])[0]
        z = torch.normal(mu.expand(n, -1), scale, generator=generator)
        return model.decode(z)


def traverse(model, z, dim, values):
    codes = z.reshape(1, -1).repeat(len(values), 1)
    codes[:, dim] = torch.as_tensor(values, dtype=codes.dtype)
    with torch.no_grad():
        return model.decode(codes)


def attribute_direction(model, x_with, x_without):
    with torch.no_grad():
        return model.encode(x_with)[0].mean(dim=0) - model.encode(x_without)[0].mean(dim=0)
