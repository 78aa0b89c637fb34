"""The per-dimension KL terms, never summed.

fails kl_divergence: returned a (B, D) tensor: sum over the latent dimensions
"""


def kl_divergence(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())
