"""latent_dim is never stored on the model.

fails conv_vae_shapes: has no attribute latent_dim
"""
_ReferenceConvVAE = ConvVAE


class ConvVAE(_ReferenceConvVAE):
    def __init__(self, latent_dim=128, in_channels=3, image_size=32):
        super().__init__(latent_dim, in_channels, image_size)
        del self.latent_dim
