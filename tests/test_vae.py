"""The reference contract (solutions.vae) against independent computations from torch.distributions."""
import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence as torch_kl

from solutions.vae import ConvVAE, FCVAE, kl_divergence, reparameterize, train_vae, vae_loss


def test_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(7, 5, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64)
    expected = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    assert kl_divergence(mu, logvar).shape == (7,)
    torch.testing.assert_close(kl_divergence(mu, logvar), expected, atol=1e-6, rtol=0)


def test_kl_is_zero_exactly_at_the_prior():
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).abs().max() == 0


def test_reparameterize_has_the_posterior_moments_and_passes_gradients():
    torch.manual_seed(0)
    mu = torch.full((200_000, 2), 1.5, requires_grad=True)
    logvar = torch.full((200_000, 2), 2 * torch.tensor(0.3).log().item(), requires_grad=True)  # sigma = 0.3
    z = reparameterize(mu, logvar)
    assert abs(z.mean().item() - 1.5) < 0.005
    assert abs(z.std().item() - 0.3) < 0.005
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones_like(mu))  # dz/dmu = 1
    assert logvar.grad.abs().sum() > 0  # dz/dlogvar = eps * sigma / 2


def test_vae_loss_matches_bernoulli_log_likelihood_and_kl():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 8, 8, dtype=torch.float64)
    x_hat = torch.rand(4, 3, 8, 8, dtype=torch.float64).clamp(0.01, 0.99)
    mu, logvar = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    loss, recon, kl = vae_loss(x_hat, x, mu, logvar, beta=0.5)
    # Bernoulli.log_prob accepts soft targets and computes -BCE.
    expected_recon = -Bernoulli(probs=x_hat, validate_args=False).log_prob(x).flatten(1).sum(1).mean()
    expected_kl = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1).mean()
    torch.testing.assert_close(recon, expected_recon, atol=1e-6, rtol=0)
    torch.testing.assert_close(kl, expected_kl, atol=1e-6, rtol=0)
    torch.testing.assert_close(loss, expected_recon + 0.5 * expected_kl, atol=1e-6, rtol=0)


@pytest.mark.parametrize("model_class", [ConvVAE, FCVAE])
@pytest.mark.parametrize("image_size", [32, 64])
def test_models_follow_the_contract(model_class, image_size):
    torch.manual_seed(0)
    model = model_class(latent_dim=16, in_channels=3, image_size=image_size)
    x = torch.rand(2, 3, image_size, image_size)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (2, 16) and model.latent_dim == 16
    x_hat = model.decode(mu)
    assert x_hat.shape == x.shape and 0 <= x_hat.min() and x_hat.max() <= 1
    first, second = model(x)[0], model(x)[0]
    assert not torch.equal(first, second), "forward must decode a fresh sample in training mode"


def test_conv_vae_is_convolutional_and_rejects_other_sizes():
    kinds = {type(m) for m in ConvVAE().modules()}
    assert torch.nn.Conv2d in kinds and torch.nn.ConvTranspose2d in kinds
    with pytest.raises(ValueError, match="32 or 64"):
        ConvVAE(image_size=28)
    with pytest.raises(ValueError, match="needs 3 widths"):
        ConvVAE(image_size=32, widths=(8, 16))


def test_train_vae_lowers_the_loss_and_accepts_both_batch_kinds():
    torch.manual_seed(0)
    images = torch.rand(32, 3, 32, 32).round()  # binary images: BCE can approach 0
    pairs = [(images[i:i + 8], torch.zeros(8)) for i in range(0, 32, 8)]
    history = train_vae(ConvVAE(latent_dim=8, widths=(8, 16, 32)), pairs, epochs=4, lr=3e-3)
    assert len(history) == 4 and history[-1] < history[0]
    bare = [images[i:i + 8] for i in range(0, 32, 8)]
    assert len(train_vae(FCVAE(latent_dim=8, hidden_dim=32), bare, epochs=1)) == 1
