"""Reference solutions of the VAE course: the assignment contract and the tools behind the book."""
from solutions.vae import ConvVAE, FCVAE, kl_divergence, reparameterize, train_vae, vae_loss

__all__ = ["ConvVAE", "FCVAE", "kl_divergence", "reparameterize", "train_vae", "vae_loss"]
