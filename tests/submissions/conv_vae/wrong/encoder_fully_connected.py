"""A "convolutional" VAE whose encoder is fully connected.

fails conv_vae_layers: encode ran no nn.Conv2d
"""
from torch import nn

_ReferenceConvVAE = ConvVAE


class ConvVAE(_ReferenceConvVAE):
    def __init__(self, latent_dim=128, in_channels=3, image_size=32):
        super().__init__(latent_dim, in_channels, image_size)
        pixels = in_channels * image_size * image_size
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(pixels, 512), nn.ReLU())
        self.to_mu = nn.Linear(512, latent_dim)
        self.to_logvar = nn.Linear(512, latent_dim)
