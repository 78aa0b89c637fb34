"""A correct submission with torchvision's classic transforms and straightforward loops."""
import torch
from torchvision import transforms


def celeba_transform(image_size=64):
    return transforms.Compose([transforms.CenterCrop(178), transforms.Resize(image_size), transforms.ToTensor()])


@torch.no_grad()
def sample_prior(model, n, temperature=1.0, generator=None):
    z = torch.randn(n, model.latent_dim, generator=generator) * temperature
    return model.decode(z)


@torch.no_grad()
def sample_near(model, x, n, scale=0.5, generator=None):
    mu, _ = model.encode(x.unsqueeze(0))
    eps = torch.randn(n, model.latent_dim, generator=generator)
    return model.decode(mu + scale * eps)


@torch.no_grad()
def traverse(model, z, dim, values):
    rows = []
    for v in values:
        code = z.clone()
        code[dim] = v
        rows.append(code)
    return model.decode(torch.stack(rows))


@torch.no_grad()
def attribute_direction(model, x_with, x_without):
    codes_with = torch.cat([model.encode(x[None])[0] for x in x_with])
    codes_without = torch.cat([model.encode(x[None])[0] for x in x_without])
    return codes_with.mean(0) - codes_without.mean(0)
