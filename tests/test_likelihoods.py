"""The discretized logistic likelihood and bits/dim, against brute-force float64 integration."""
import math

import pytest
import torch

from solutions.likelihoods import Bernoulli, DiscretizedLogistic, bits_per_dim, discretized_logistic_log_prob, negative_elbo
from solutions.vae import ConvVAE

VALUES = torch.arange(256, dtype=torch.float64) / 255


def logistic_cdf(t, mean, scale):
    return torch.sigmoid((t - mean) / scale)


@pytest.mark.parametrize("mean,log_scale", [(0.3, -3.0), (0.0, -5.0), (1.0, -1.0), (0.52, -4.5)])
def test_probabilities_are_bin_masses_and_sum_to_one(mean, log_scale):
    scale = math.exp(log_scale)
    m, s = torch.full_like(VALUES, mean), torch.full_like(VALUES, log_scale)
    log_p = discretized_logistic_log_prob(VALUES, m, s)
    upper = torch.where(VALUES > 1 - 1e-9, torch.ones_like(VALUES), logistic_cdf(VALUES + 0.5 / 255, mean, scale))
    lower = torch.where(VALUES < 1e-9, torch.zeros_like(VALUES), logistic_cdf(VALUES - 0.5 / 255, mean, scale))
    brute = upper - lower
    significant = brute > 1e-5  # where the midpoint approximation is not used
    torch.testing.assert_close(log_p[significant].exp(), brute[significant], atol=1e-6, rtol=1e-6)
    assert abs(log_p.exp().sum().item() - 1) < 1e-5


def test_log_prob_stays_finite_far_in_the_tails():
    log_p = discretized_logistic_log_prob(VALUES.float(), torch.zeros(256), torch.full((256,), -7.0))
    assert torch.isfinite(log_p).all()


def test_bits_per_dim_of_a_uniform_model_is_eight():
    # A uniform pmf over 256 values costs log2(256) = 8 bits per sub-pixel.
    dims = 3 * 32 * 32
    assert bits_per_dim(dims * math.log(256), dims) == pytest.approx(8.0)


def test_negative_elbo_terms_have_one_value_per_image():
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=4, widths=(4, 8, 8))
    x = torch.randint(0, 256, (3, 3, 32, 32)).float() / 255
    for likelihood in (DiscretizedLogistic(), Bernoulli()):
        recon, kl = negative_elbo(model, likelihood, x)
        assert recon.shape == kl.shape == (3,) and (recon > 0).all() and (kl >= 0).all()


def test_residual_vae_couples_colours_as_in_pixelcnn_plus_plus():
    from solutions.resvae import ResidualVAE

    torch.manual_seed(0)
    model = ResidualVAE(latent_dim=64, widths=(4, 8, 8))
    torch.nn.init.normal_(model.decoder[-1].weight, std=0.1)  # make the coupling coefficients non-trivial
    x = torch.randint(0, 256, (2, 3, 32, 32)).double() / 255
    z = torch.randn(2, 64, dtype=torch.float64)
    model.double()
    params = model.decoder(z.view(2, 1, 8, 8))
    m, log_s, coeff = params.chunk(3, dim=1)
    a, b, c = torch.tanh(coeff).chunk(3, dim=1)
    mean = m + 0.5
    red, green = x[:, 0:1], x[:, 1:2]
    coupled = torch.cat([mean[:, 0:1], mean[:, 1:2] + a * red, mean[:, 2:3] + b * red + c * green], dim=1)
    expected = discretized_logistic_log_prob(x, coupled, log_s.clamp_min(-7)).flatten(1).sum(1)
    torch.testing.assert_close(model.log_likelihood(z, x), expected, atol=1e-6, rtol=0)
    decoded = model.decode(z)
    assert decoded.shape == (2, 3, 32, 32) and 0 <= decoded.min() and decoded.max() <= 1
