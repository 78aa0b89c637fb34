"""forward decodes the mean through a dropout layer, and calls the decoder network directly instead of
self.decode: two training-mode outputs differ, but the decoder still receives no sample from N(mu, sigma^2).

fails conv_vae_layers: is not mu + eps * exp(0.5 * logvar)
"""
import torch

_ReferenceConvVAE = ConvVAE  # noqa: F821 (the reference's, defined before this file)


class ConvVAE(_ReferenceConvVAE):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return torch.sigmoid(self.decoder(self.drop(mu))), mu, logvar
