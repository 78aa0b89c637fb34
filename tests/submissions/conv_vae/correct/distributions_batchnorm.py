"""A correct submission written with torch.distributions and a batch-normalised, strided-conv model."""
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence as kl_between

LATENT = 128


def reparameterize(mu, logvar):
    return Normal(mu, torch.exp(0.5 * logvar)).rsample()


def kl_divergence(mu, logvar):
    posterior = Normal(mu, torch.exp(0.5 * logvar))
    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return kl_between(posterior, prior).sum(dim=-1)


def vae_loss(x_hat, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy(x_hat, x, reduction="none").flatten(1).sum(1).mean()
    kl = kl_divergence(mu, logvar).mean()
    return recon + beta * kl, recon, kl


def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.SiLU())


def up_block(c_in, c_out):
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
                         nn.BatchNorm2d(c_out), nn.SiLU())


class ConvVAE(nn.Module):
    def __init__(self, latent_dim=LATENT, in_channels=3, image_size=32):
        super().__init__()
        self.latent_dim = latent_dim
        widths = [16, 32, 64] if image_size == 32 else [16, 32, 64, 64]
        layers, c = [], in_channels
        for w in widths:
            layers.append(block(c, w))
            c = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c * 16, 2 * latent_dim)
        self.start = nn.Linear(latent_dim, c * 16)
        self.top = c
        ups = []
        for w in reversed(widths[:-1]):
            ups.append(up_block(c, w))
            c = w
        self.ups = nn.Sequential(*ups)
        self.out = nn.ConvTranspose2d(c, in_channels, 4, stride=2, padding=1)

    def encode(self, x):
        stats = self.head(self.features(x).flatten(1))
        mu, logvar = stats.chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        h = self.start(z).view(-1, self.top, 4, 4)
        return torch.sigmoid(self.out(self.ups(h)))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        model.train()
        losses, sizes = [], []
        for batch in loader:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            x = x.to(device)
            x_hat, mu, logvar = model(x)
            loss = vae_loss(x_hat, x, mu, logvar, beta=beta)[0]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach() * len(x))
            sizes.append(len(x))
        history.append((torch.stack(losses).sum() / sum(sizes)).item())
    return history
