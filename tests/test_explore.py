"""Latent-space exploration tools against hand computation (1e-6), with linear models of known weights."""
import pytest
import torch

from linear_models import identity_decoder_vae, random_linear_vae
from solutions.explore import (ExploreError, apply_direction, attribute_direction, latent_means, most_active_dims,
                               pca_2d, sample_near, sample_prior, traverse)

ATOL = 1e-6


def test_sample_prior_is_reproducible_and_scaled_by_temperature():
    model = identity_decoder_vae(latent_dim=5)  # decode(z) is z: samples are the codes themselves
    first = sample_prior(model, 4, generator=torch.Generator().manual_seed(3))
    again = sample_prior(model, 4, generator=torch.Generator().manual_seed(3))
    assert first.shape == (4, 1, 1, 5)
    assert torch.equal(first, again), "the same generator seed must give the same samples"
    expected = torch.randn(4, 5, generator=torch.Generator().manual_seed(3)).double()
    torch.testing.assert_close(first.view(4, 5), expected, atol=ATOL, rtol=0)
    cold = sample_prior(model, 4, temperature=0.5, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(cold, 0.5 * first, atol=ATOL, rtol=0)


def test_sample_prior_spread_follows_temperature():
    model = identity_decoder_vae(latent_dim=8)
    for temperature in (0.5, 2.0):
        z = sample_prior(model, 4000, temperature, generator=torch.Generator().manual_seed(0)).view(4000, 8)
        assert abs(z.std().item() - temperature) < 0.05 * temperature


def test_sample_near_is_mean_plus_scaled_noise():
    model = random_linear_vae(latent_dim=3, image_shape=(1, 2, 2), logvar=2.0)
    x = torch.rand(1, 2, 2, dtype=torch.float64)
    samples = sample_near(model, x, 5, scale=0.3, generator=torch.Generator().manual_seed(7))
    eps = torch.randn(5, 3, generator=torch.Generator().manual_seed(7)).double()
    mu = model.A.detach() @ x.flatten()
    expected = ((mu + 0.3 * eps) @ model.B.detach().T).view(5, 1, 2, 2)
    torch.testing.assert_close(samples, expected, atol=ATOL, rtol=0)


def test_traverse_sets_one_coordinate_and_leaves_z_alone():
    model = identity_decoder_vae(latent_dim=4)
    z = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    z_before = z.clone()
    frames = traverse(model, z, dim=2, values=[-1.0, 0.0, 2.5]).view(3, 4)
    expected = torch.tensor([[0.1, 0.2, -1.0, 0.4], [0.1, 0.2, 0.0, 0.4], [0.1, 0.2, 2.5, 0.4]], dtype=torch.float64)
    torch.testing.assert_close(frames, expected, atol=ATOL, rtol=0)
    assert torch.equal(z, z_before), "traverse must not modify z"
    with pytest.raises(ExploreError, match="dim"):
        traverse(model, z, dim=4, values=[0.0])


def test_attribute_direction_is_mean_difference_for_linear_encoder():
    model = random_linear_vae(latent_dim=3, image_shape=(1, 2, 2))
    x_with, x_without = torch.rand(6, 1, 2, 2, dtype=torch.float64), torch.rand(4, 1, 2, 2, dtype=torch.float64)
    A = model.A.detach()
    expected = (x_with.flatten(1) @ A.T).mean(0) - (x_without.flatten(1) @ A.T).mean(0)
    torch.testing.assert_close(attribute_direction(model, x_with, x_without), expected, atol=ATOL, rtol=0)


def test_apply_direction_moves_along_the_direction():
    model = random_linear_vae(latent_dim=3, image_shape=(1, 2, 2))
    x = torch.rand(1, 2, 2, dtype=torch.float64)
    direction = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    frames = apply_direction(model, x, direction, [-1.0, 0.0, 2.0])
    mu = model.A.detach() @ x.flatten()
    expected = torch.stack([(mu + a * direction) @ model.B.detach().T for a in (-1.0, 0.0, 2.0)]).view(3, 1, 2, 2)
    torch.testing.assert_close(frames, expected, atol=ATOL, rtol=0)


def test_latent_means_tensor_and_loader_agree():
    model = random_linear_vae(latent_dim=3, image_shape=(1, 2, 2))
    images = torch.rand(10, 1, 2, 2, dtype=torch.float64)
    labels = torch.arange(10)
    from_tensor = latent_means(model, images, batch_size=3)
    from_loader = latent_means(model, zip(images.split(4), labels.split(4)))
    torch.testing.assert_close(from_tensor, images.flatten(1) @ model.A.detach().T, atol=ATOL, rtol=0)
    torch.testing.assert_close(from_loader, from_tensor, atol=ATOL, rtol=0)


def test_pca_2d_recovers_axes_by_hand():
    # Spread 2 along x, 1 along y, none along z: the components are +x then +y (signs fixed positive).
    latents = torch.tensor([[2.0, 0, 0], [-2, 0, 0], [0, 1, 0], [0, -1, 0]]) + torch.tensor([5.0, -1.0, 3.0])
    expected = torch.tensor([[2.0, 0], [-2, 0], [0, 1], [0, -1]])
    torch.testing.assert_close(pca_2d(latents), expected, atol=ATOL, rtol=0)


def test_most_active_dims_ranks_by_average_kl():
    # Encoder copies pixels: mu = x, logvar = 0, so the KL of dim d is mean(x_d^2) / 2.
    model = identity_decoder_vae(latent_dim=4)
    x = torch.tensor([[0.0, 3.0, 1.0, 0.5], [0.0, 1.0, -1.0, 0.5]], dtype=torch.float64).view(2, 1, 1, 4)
    dims, kl = most_active_dims(model, x, k=2)
    assert dims.tolist() == [1, 2]
    torch.testing.assert_close(kl, torch.tensor([5.0 / 2, 1.0 / 2], dtype=torch.float64), atol=ATOL, rtol=0)


def test_tools_restore_training_mode():
    model = random_linear_vae()
    model.train()
    x = torch.rand(1, 2, 2, dtype=torch.float64)
    sample_prior(model, 2)
    sample_near(model, x, 2)
    assert model.training
