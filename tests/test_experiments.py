"""The theory experiments: their measurements against hand computation, and each experiment end to end on tiny
fake CIFAR-10 (a few training steps) for the structure and sanity of what it returns and draws."""
import math

import pytest
import torch
from PIL import Image

from fakedata import make_cifar_jpegs
from solutions import experiments
from solutions.experiments import (DataConfig, Q1Config, Q2Config, Q3Config, Q4Config, beta_key, coverage,
                                   frame_distances, frechet_distance, quick)


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    make_cifar_jpegs(root, n_train=140, n_test=70)
    return str(root)


def quick_config(config_class, root):
    config = quick(config_class())
    return config if not hasattr(config, "data") else experiments.replace(config, data=experiments.replace(config.data,
                                                                                                            root=root))


def assert_png(path, min_side=100):
    assert path.is_file(), f"{path.name} was not written"
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) >= min_side, f"{path.name} is {image.size}"
    assert path.stat().st_size < 300_000, f"{path.name} is {path.stat().st_size} bytes: too big for the book"


def test_frechet_distance_by_hand():
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(200, 1, 2, 2, generator=generator)
    assert abs(frechet_distance(a, a, size=2)) < 1e-6
    # Shifting every pixel by c leaves the covariance alone and moves the mean: d^2 = 4 pixels * c^2.
    assert frechet_distance(a, a + 0.1, size=2) == pytest.approx(4 * 0.1 ** 2, abs=1e-6)


def test_coverage_by_hand():
    mu = torch.tensor([[0.0, 0.0], [5.0, 0.0]])
    logvar = torch.log(torch.tensor([[1.0, 1.0], [0.25, 0.25]]))  # stds 1 and 0.5
    draws = torch.tensor([[1.9, 0.0], [2.1, 0.0], [5.9, 0.0], [6.1, 0.0]])
    # within 2 std: 1.9 (of the first), 5.9 (0.9 / 0.5 = 1.8 std of the second); not 2.1 nor 6.1 (2.2 std)
    assert coverage(mu, logvar, draws, radius=2.0) == pytest.approx(0.5)


def test_frame_distances_and_keys():
    frames = torch.zeros(3, 1, 1, 2)
    frames[1] = torch.tensor([3.0, 4.0])
    assert frame_distances(frames).tolist() == [5.0, 5.0]
    assert [beta_key(b) for b in (0.0, 0.1, 1.0, 4.0)] == ["beta0", "beta0p1", "beta1", "beta4"]


def test_q2_pathwise_beats_score_function(tmp_path):
    result = experiments.q2_gradient_variance(quick(Q2Config()), tmp_path)["q2_gradient_variance"]
    for sweep in ("by_samples", "by_dim"):
        for variances in result[sweep].values():
            assert variances["pathwise"] < variances["score_function_baseline"] < variances["score_function"]
    for key, variances in result["by_samples"].items():  # pathwise variance is 4 sigma^2 / n exactly
        assert variances["pathwise"] == pytest.approx(4 / int(key[1:]), rel=0.3)
    demo = result["demo"]
    assert demo["torch_normal"] == 0.0, "torch.normal's gradient w.r.t. its mean is zero"
    assert demo["distribution_sample_has_graph"] is False
    assert demo["reparameterize"] == pytest.approx(demo["true_gradient"], abs=1.0)
    assert_png(tmp_path / "q2_gradient_variance.png")


def test_q1_beta_sweep_on_fake_data(fake_root, tmp_path):
    config = quick_config(Q1Config, fake_root)
    result = experiments.q1_beta_sweep(config, tmp_path)
    sweep = result["q1_beta_sweep"]
    for beta in config.betas:
        row = sweep[beta_key(beta)]
        assert row["beta"] == beta
        assert 0 <= row["recon_mse"] < 1 and row["kl"] >= 0 and math.isfinite(row["sample_fd"])
        assert 0 <= row["active_dims"] <= config.model.latent_dim
    assert set(result["q1_autoencoder_vs_vae"]) >= {"ae_prior_fd", "ae_fitted_gaussian_fd", "vae_prior_fd"}
    assert sweep["run"]["train_images"] == config.data.train_images
    for name in ("q1_beta_sweep", "q1_autoencoder_vs_vae_samples"):
        assert_png(tmp_path / f"{name}.png")


def test_q3_and_q4_on_fake_data(fake_root, tmp_path):
    q3 = experiments.q3_posteriors(quick_config(Q3Config, fake_root), tmp_path)["q3_posteriors"]
    for model in ("vae", "ae"):
        assert 0 <= q3[model]["coverage"] <= 1 and q3[model]["posterior_std"] > 0
    config = quick_config(Q4Config, fake_root)
    maps = experiments.q4_latent_maps(config, tmp_path)["q4_latent_maps"]
    assert maps["run"]["latent_dim"] == 2 and maps["vae"]["box_width_1"] > 0
    smooth = experiments.q4_interp_smoothness(config, tmp_path)["q4_interp_smoothness"]
    for model in ("ae", "vae"):
        # the largest step is at least the mean step, and at most all steps - 1 of them
        assert 1 <= smooth[model]["max_over_mean"] <= config.steps - 1
    for name in ("q3_posteriors", "q4_latent_maps", "q4_interp_smoothness"):
        assert_png(tmp_path / f"{name}.png")


def test_subset_is_random_not_the_first_class(fake_root):
    train, test = experiments.theory_data(DataConfig(root=fake_root, train_images=30, test_images=20))
    assert len(train) == 30 and len(test) == 20
    assert len(set(train.targets.tolist())) > 1, "the cache is sorted by class: a subset must be drawn at random"
