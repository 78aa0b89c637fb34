"""Reference solutions of the VAE course: the assignment contract and the tools behind the book."""
from course_utils.data import celeba_transform
from solutions.explore import attribute_direction, sample_near, sample_prior, traverse
from solutions.interpolate import interpolate, lerp, slerp
from solutions.vae import ConvVAE, FCVAE, kl_divergence, reparameterize, train_vae, vae_loss

__all__ = ["ConvVAE", "FCVAE", "attribute_direction", "celeba_transform", "interpolate", "kl_divergence", "lerp",
           "reparameterize", "sample_near", "sample_prior", "slerp", "train_vae", "traverse", "vae_loss"]
