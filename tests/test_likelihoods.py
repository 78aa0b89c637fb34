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


def tiny_hierarchical_vae():
    from solutions.hvae import HierarchicalVAE

    torch.manual_seed(0)
    model = HierarchicalVAE(latent_dim=64, widths=(4, 8, 8), level_channels=2).double()
    torch.nn.init.normal_(model.level16.prior[-1].weight, std=0.1)  # give the learned prior something to say
    torch.nn.init.normal_(model.head[-1].weight, std=0.1)  # make the coupling coefficients non-trivial
    return model


def test_hierarchical_vae_couples_colours_as_in_pixelcnn_plus_plus():
    model = tiny_hierarchical_vae()
    x = torch.randint(0, 256, (2, 3, 32, 32)).double() / 255
    d32 = torch.randn(2, 4, 32, 32, dtype=torch.float64)
    m, log_s, coeff = model.head(d32).chunk(3, dim=1)
    a, b, c = torch.tanh(coeff).chunk(3, dim=1)
    mean = m + 0.5
    red, green = x[:, 0:1], x[:, 1:2]
    coupled = torch.cat([mean[:, 0:1], mean[:, 1:2] + a * red, mean[:, 2:3] + b * red + c * green], dim=1)
    expected = discretized_logistic_log_prob(x, coupled, log_s.clamp_min(-7))
    means, log_scales, coefficients = model._pixel_parameters(d32)
    torch.testing.assert_close(discretized_logistic_log_prob(x, model._coupled_means(means, coefficients, x),
                                                             log_scales), expected, atol=1e-6, rtol=0)


def test_gaussian_kl_matches_torch_distributions():
    from solutions.hvae import gaussian_kl

    torch.manual_seed(0)
    mu_q, logvar_q, mu_p, logvar_p = torch.randn(4, 2, 5, 5, dtype=torch.float64).unbind(0)
    q = torch.distributions.Normal(mu_q, torch.exp(0.5 * logvar_q))
    p = torch.distributions.Normal(mu_p, torch.exp(0.5 * logvar_p))
    torch.testing.assert_close(gaussian_kl(mu_q, logvar_q, mu_p, logvar_p), torch.distributions.kl_divergence(q, p),
                               atol=1e-6, rtol=0)


def test_hierarchical_elbo_is_the_sum_of_the_reconstruction_and_every_level_kl():
    """Recompute -ELBO by hand from the same noise: bottom-up features, the top code against N(0, I), the 16x16
    level's posterior sample and its KL against the learned prior, then the per-pixel likelihood."""
    from solutions.hvae import gaussian_kl, gaussian_parameters
    from solutions.vae import kl_divergence

    model = tiny_hierarchical_vae()
    x = torch.randint(0, 256, (3, 3, 32, 32)).double() / 255
    torch.manual_seed(1)
    recon, kl = model.elbo_terms(x)
    torch.manual_seed(1)
    h16 = model.down16(model.stem(x - 0.5))
    mu, logvar = gaussian_parameters(model.top_posterior(model.down8(h16)))
    d = model.top(mu + torch.exp(0.5 * logvar) * torch.randn_like(mu))
    mu_p, logvar_p = gaussian_parameters(model.level16.prior(d))
    mu_q, logvar_q = gaussian_parameters(model.level16.posterior(torch.cat([d, h16], dim=1)))
    expected_kl = (kl_divergence(mu.flatten(1), logvar.flatten(1))
                   + gaussian_kl(mu_q, logvar_q, mu_p, logvar_p).flatten(1).sum(1))
    z16 = mu_q + torch.exp(0.5 * logvar_q) * torch.randn_like(mu_q)
    d = model.up32(model.level16.block(d + model.level16.inject(z16)))
    means, log_scales, coefficients = model._pixel_parameters(d)
    expected_recon = -discretized_logistic_log_prob(x, model._coupled_means(means, coefficients, x),
                                                    log_scales).flatten(1).sum(1)
    torch.testing.assert_close(recon, expected_recon, atol=1e-6, rtol=0)
    torch.testing.assert_close(kl, expected_kl, atol=1e-6, rtol=0)
    assert (kl > 0).all()
    at_means = model.kl_per_level(x)  # the same terms with z_8 at its posterior mean instead of a sample
    d = model.top(mu)
    mu_p, logvar_p = gaussian_parameters(model.level16.prior(d))
    mu_q, logvar_q = gaussian_parameters(model.level16.posterior(torch.cat([d, h16], dim=1)))
    torch.testing.assert_close(at_means["z8"], kl_divergence(mu.flatten(1), logvar.flatten(1)), atol=1e-6, rtol=0)
    torch.testing.assert_close(at_means["z16"], gaussian_kl(mu_q, logvar_q, mu_p, logvar_p).flatten(1).sum(1),
                               atol=1e-6, rtol=0)
    torch.testing.assert_close(at_means["z16_standard_prior"],
                               gaussian_kl(mu_q, logvar_q, 0 * mu_q, 0 * logvar_q).flatten(1).sum(1),
                               atol=1e-6, rtol=0)


def test_hierarchical_vae_decodes_deterministically_at_temperature_zero():
    model = tiny_hierarchical_vae()
    z = torch.randn(2, 64, dtype=torch.float64)
    first, again = model.decode(z), model.decode(z)
    torch.testing.assert_close(first, again, atol=0, rtol=0)
    assert first.shape == (2, 3, 32, 32) and 0 <= first.min() and first.max() <= 1
    assert not torch.equal(model.decode(z, temperature=1.0), first), "temperature 1 samples the lower levels"
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    top_only = model.reconstruct(x, levels=1)
    torch.testing.assert_close(top_only, model.decode(model.encode(x)[0]), atol=0, rtol=0)
    assert not torch.equal(model.reconstruct(x), top_only), "the lower levels add what the top code lacks"
