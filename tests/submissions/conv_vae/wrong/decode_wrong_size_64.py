"""The encoder adapts to 64x64 images, but the decoder always upsamples 4 -> 32.

fails conv_vae_shapes: decode(z) returned shape (2, 3, 32, 32), expected (2, 3, 64, 64)
"""
import torch
from torch import nn


class ConvVAE(nn.Module):
    def __init__(self, latent_dim=128, in_channels=3, image_size=32):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.to_mu = nn.Linear(64 * 16, latent_dim)
        self.to_logvar = nn.Linear(64 * 16, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 64 * 16), nn.Unflatten(1, (64, 4, 4)), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(16, in_channels, 4, 2, 1))

    def encode(self, x):
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z):
        return torch.sigmoid(self.decoder(z))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar
