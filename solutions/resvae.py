"""A residual VAE with a spatial latent and a per-pixel, colour-coupled discretized logistic decoder.

The course's ConvVAE (solutions/vae.py) squeezes the image through a flat 128-d code and predicts only a
mean per sub-pixel, with one learned scale per colour channel. Three changes buy most of the bits/dim:

1. A spatial latent: z is (z_channels, 8, 8), flattened to latent_dim = 64 * z_channels. Each latent
   position describes its own 4x4 patch, so the code can carry detail where the image has it.
2. Per-pixel scales: the decoder predicts how sure it is about every sub-pixel, so a flat sky costs few
   bits and a textured edge is not punished as if it were sky.
3. Colour coupling (Salimans et al., 2017, PixelCNN++, eq. 3): the means of green and blue shift linearly
   with the pixel's actual red (and green) value, x_R and x_G. Colours of a pixel are strongly correlated;
   this captures it while p(x|z) stays a product of per-pixel terms that is exact and cheap to evaluate:

       p(x|z) = prod_pixels  L(x_R | m_R, s_R) L(x_G | m_G + a x_R, s_G) L(x_B | m_B + b x_R + c x_G, s_B)

   with L a logistic discretized to 256 bins (solutions.likelihoods) and (m, log s, a, b, c) from the decoder.
Residual blocks (He et al., 2016) keep the deeper networks easy to optimise.
"""
from __future__ import annotations

import torch
from torch import nn

from solutions.likelihoods import discretized_logistic_log_prob
from solutions.vae import reparameterize

LATENT_SIDE = 8  # the latent grid is 8x8 for 32x32 images (two stride-2 stages)
MIN_LOG_SCALE = -7.0  # scale >= 1e-3 (a quarter of a bin): keeps the likelihood finite


class ResidualBlock(nn.Module):
    """x + conv(act(conv(act(x)))), 3x3 convolutions; the last conv starts at zero so each block starts as identity."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1),
                                  nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1))
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, x):
        return x + self.body(x)


class ResidualVAE(nn.Module):
    """Inputs: x (B, 3, 32, 32) in [0, 1].   Latent: z (B, latent_dim), latent_dim = z_channels * 8 * 8.

    widths: channels at 32x32, 16x16 and 8x8.
    """

    def __init__(self, latent_dim: int = 512, in_channels: int = 3, image_size: int = 32,
                 widths: tuple[int, int, int] = (32, 64, 128)):
        super().__init__()
        if image_size != 32 or in_channels != 3:
            raise ValueError(f"ResidualVAE models 32x32 RGB images, got {in_channels}x{image_size}x{image_size}")
        if latent_dim % LATENT_SIDE**2:
            raise ValueError(f"latent_dim must be a multiple of {LATENT_SIDE**2} (an 8x8 grid of z channels), "
                             f"got {latent_dim}")
        if len(widths) != 3:
            raise ValueError(f"ResidualVAE needs 3 widths (at 32x32, 16x16, 8x8), got {widths}")
        self.latent_dim, self.z_channels = latent_dim, latent_dim // LATENT_SIDE**2
        w1, w2, w3 = widths
        self.encoder = nn.Sequential(
            nn.Conv2d(3, w1, 3, padding=1),                                       # (B, w1, 32, 32)
            nn.Conv2d(w1, w2, 4, stride=2, padding=1), ResidualBlock(w2),         # (B, w2, 16, 16)
            nn.Conv2d(w2, w3, 4, stride=2, padding=1), ResidualBlock(w3),         # (B, w3, 8, 8)
            nn.SiLU(), nn.Conv2d(w3, 2 * self.z_channels, 1),                     # (B, 2 zc, 8, 8): mu and logvar
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(self.z_channels, w3, 3, padding=1), ResidualBlock(w3),      # (B, w3, 8, 8)
            nn.ConvTranspose2d(w3, w2, 4, stride=2, padding=1), ResidualBlock(w2),  # (B, w2, 16, 16)
            nn.ConvTranspose2d(w2, w1, 4, stride=2, padding=1), ResidualBlock(w1),  # (B, w1, 32, 32)
            nn.SiLU(), nn.Conv2d(w1, 9, 3, padding=1),  # (B, 9, 32, 32): means, log-scales, coupling coefficients
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x - 0.5).chunk(2, dim=1)  # centred input; each (B, zc, 8, 8)
        return mu.flatten(1), logvar.flatten(1)  # (B, latent_dim) each

    def _decoder_outputs(self, z: torch.Tensor):
        params = self.decoder(z.view(-1, self.z_channels, LATENT_SIDE, LATENT_SIDE))
        if params.dtype in (torch.float16, torch.bfloat16):
            params = params.float()  # under autocast: the likelihood's tails need float32
        means, log_scales, coefficients = params.chunk(3, dim=1)  # (B, 3, 32, 32) each
        return means + 0.5, log_scales.clamp_min(MIN_LOG_SCALE), torch.tanh(coefficients)

    @staticmethod
    def _coupled_means(means: torch.Tensor, coefficients: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
        """m_R, m_G + a x_R, m_B + b x_R + c x_G, with x_R, x_G the first two channels of `colours`."""
        red, green = colours[:, 0:1], colours[:, 1:2]
        a, b, c = coefficients.chunk(3, dim=1)
        return torch.cat([means[:, 0:1], means[:, 1:2] + a * red, means[:, 2:3] + b * red + c * green], dim=1)

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per image in nats, (B,)."""
        means, log_scales, coefficients = self._decoder_outputs(z)
        coupled = self._coupled_means(means, coefficients, x)
        return discretized_logistic_log_prob(x, coupled, log_scales).flatten(1).sum(1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The most likely image, approximately: red's mean, then green's and blue's given the predicted colours."""
        means, _, coefficients = self._decoder_outputs(z)
        red = means[:, 0:1]
        green = means[:, 1:2] + coefficients[:, 0:1] * red
        return self._coupled_means(means, coefficients, torch.cat([red, green], dim=1)).clamp(0, 1)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar
