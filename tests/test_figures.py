"""The figures CLI end to end: tiny runs trained for a few steps on fake CIFAR-10 and CelebA, saved in the run
format of solutions.train, then every figure drawn from them (and the theory experiments in --quick mode)."""
import contextlib
import io
import json

import pytest
from PIL import Image

from fakedata import make_celeba, make_cifar_jpegs
from benchmarks import quality
from solutions import figures
from solutions.train import TrainConfig, train

TINY_RUNS = {
    "cifar10-conv": dict(dataset="cifar10", model="conv", widths="8,16,32", latent_dim=8),
    "cifar10-fc": dict(dataset="cifar10", model="fc", latent_dim=8),
    "celeba-conv": dict(dataset="celeba", model="conv", widths="8,8,16,16", latent_dim=8),
    "cifar10-hvae": dict(dataset="cifar10", model="hvae", widths="4,8,8", latent_dim=64),
}


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """(data root, runs dir): fake datasets in the mirror layout and one 2-step run per figure run."""
    root = tmp_path_factory.mktemp("figures")
    data = root / "data"
    make_cifar_jpegs(data, n_train=140, n_test=70)
    make_celeba(data, n=300, n_identities=300)
    for name, options in TINY_RUNS.items():
        train(TrainConfig(**options, epochs=1, batch_size=32, limit=64, eval_limit=32,
                          out=str(root / "runs" / name), data_root=str(data), device="cpu"))
    record = quality.QualityConfig(budgets={"hvae": (0.001, 0.002), "conv": (0.001,)}, batch_size=16,
                                   data_root=str(data), limit=32, eval_limit=20, device="cpu")
    with contextlib.redirect_stdout(io.StringIO()):
        quality.run(record, record=True, results_dir=root / "results")
    return data, root / "runs", root / "results" / "quality-record.json"


def test_every_figure_is_drawn(tiny_setup, tmp_path, capsys):
    data, runs, quality_record = tiny_setup
    out = tmp_path / "figures"
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps({"kept_from_before": {"value": 1}}))
    status = figures.main(["--runs-dir", str(runs), "--out", str(out), "--data-root", str(data), "--device", "cpu",
                           "--quality-record", str(quality_record), "--quick"])
    printed = capsys.readouterr().out
    assert status == 0
    assert not [line for line in printed.splitlines() if line.startswith("skip ")], printed
    for name in figures.ALL_FIGURES:
        path = out / f"{name}.png"
        assert path.is_file(), f"{name}.png was not written:\n{printed}"
        with Image.open(path) as image:
            assert image.format == "PNG" and 100 <= min(image.size) and max(image.size) <= 2000, (name, image.size)
        assert path.stat().st_size < 300_000, f"{name}.png is {path.stat().st_size} bytes: too big for the book"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kept_from_before"] == {"value": 1}, "metrics.json must be merged, not overwritten"
    for run in ("cifar10_conv", "cifar10_fc", "celeba_conv", "cifar10_hvae"):
        assert metrics[run]["epochs"] == 1 and "test_bpd" in metrics[run]
        assert metrics[run]["command"].startswith("python -m solutions.train ")
    for key in ("q1_beta_sweep", "q1_autoencoder_vs_vae", "q2_gradient_variance", "q3_posteriors", "q4_latent_maps",
                "q4_interp_smoothness", "cifar10_latent_pca", "celeba_traversals"):
        assert key in metrics, f"metrics.json lacks {key}"
    assert set(metrics["quality_record"]["hvae"]) == {"bpd_0.001min", "bpd_0.002min", "command"}
    assert {"kl_z8", "kl_z16", "kl_z16_standard_prior"} <= set(metrics["cifar10_hvae_levels"])


def test_train_command_reproduces_the_run_flags():
    config = dict(vars(TrainConfig(dataset="cifar10", model="fc", epochs=3, latent_dim=16)))
    command = figures.train_command(config, "runs/x")
    assert command == "python -m solutions.train --dataset cifar10 --model fc --latent-dim 16 --epochs 3 --out runs/x"


def test_missing_run_is_skipped_with_the_command_that_makes_it(tmp_path, capsys):
    status = figures.main(["--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out"),
                           "--only", "cifar10_bpd_curves", "celeba_samples.png"])
    printed = capsys.readouterr().out.splitlines()
    assert status == 0
    assert any(line.startswith("skip cifar10_bpd_curves:") and "python -m solutions.train --dataset cifar10 --model fc"
               in line for line in printed), printed
    assert any(line.startswith("skip celeba_samples:") and "--dataset celeba" in line for line in printed), printed
    assert not list((tmp_path / "out").glob("*.png"))


def test_unknown_figure_is_a_one_line_error(tmp_path, capsys):
    assert figures.main(["--out", str(tmp_path), "--only", "cifar10_nonsense"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: unknown figure cifar10_nonsense") and error.count("\n") == 1
