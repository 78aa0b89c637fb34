"""forward decodes the mean and adds NaN in training mode: NaN never equals itself, so two outputs "differ".

fails conv_vae_layers: contains NaN or inf
"""
_ReferenceConvVAE = ConvVAE  # noqa: F821 (the reference's, defined before this file)


class ConvVAE(_ReferenceConvVAE):
    def forward(self, x):
        mu, logvar = self.encode(x)
        x_hat = self.decode(mu)
        return (x_hat + float("nan") if self.training else x_hat), mu, logvar
