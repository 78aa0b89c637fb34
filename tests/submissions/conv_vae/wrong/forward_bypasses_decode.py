"""forward decodes the mean by calling the decoder network itself (not self.decode), then adds noise to the
image: two training-mode outputs differ, but the decoder still receives mu.

fails conv_vae_layers: decodes mu itself in train mode
"""
import torch

_ReferenceConvVAE = ConvVAE  # noqa: F821 (the reference's, defined before this file)


class ConvVAE(_ReferenceConvVAE):
    def forward(self, x):
        mu, logvar = self.encode(x)
        x_hat = torch.sigmoid(self.decoder(mu))
        if self.training:
            x_hat = (x_hat + 0.01 * torch.randn_like(x_hat)).clamp(0, 1)
        return x_hat, mu, logvar
