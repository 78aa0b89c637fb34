"""The training CLI: logs, checkpoints, exact resume, SIGKILL recovery, NaN stop, DDP, bad input."""
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import solutions.train as train_module
from solutions.train import TrainConfig, load_run, main, train

HVAE = ["--dataset", "cifar10", "--model", "hvae", "--latent-dim", "64", "--widths", "4,8,8", "--batch-size", "16"]
TINY = ["--dataset", "cifar10", "--model", "conv", "--latent-dim", "4", "--widths", "4,8,8", "--batch-size", "16"]


def run_cli(*args, data_root, timeout=120):
    """The CLI in a fresh process, as a user runs it."""
    env = {**os.environ, "VAE_DATA_ROOT": str(data_root), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "solutions.train", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def weights(run_dir):
    return torch.load(Path(run_dir) / "checkpoint.pt", weights_only=False)["objective"]


def test_training_writes_checkpoint_and_metrics_and_loads_back(fake_data_root, tmp_path):
    out = tmp_path / "run"
    assert main([*TINY, "--epochs", "2", "--data-root", str(fake_data_root), "--out", str(out)]) == 0
    history = json.loads((out / "metrics.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    assert {"step", "seconds", "train_loss", "test_bpd", "test_recon", "test_kl", "test_recon_mse"} <= set(history[0])
    assert 0 < history[-1]["test_bpd"] < 16  # a discretized logistic is never worse than 8 bits by much
    assert (out / "metrics.csv").read_text().startswith("epoch,epochs_trained,step,seconds")
    model, config, loaded_history = load_run(out)
    assert config["latent_dim"] == 4 and loaded_history == history and not model.training
    assert model.decode(torch.zeros(1, 4)).shape == (1, 3, 32, 32)


def test_resume_continues_exactly_where_an_uninterrupted_run_would_be(fake_data_root, tmp_path):
    common = [*TINY, "--data-root", str(fake_data_root)]
    assert main([*common, "--epochs", "3", "--out", str(tmp_path / "straight")]) == 0
    assert main([*common, "--epochs", "1", "--out", str(tmp_path / "resumed")]) == 0
    assert main([*common, "--epochs", "3", "--out", str(tmp_path / "resumed"), "--resume"]) == 0
    straight, resumed = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    for name in straight:
        torch.testing.assert_close(resumed[name], straight[name], atol=0, rtol=0, msg=name)


def test_sigkill_mid_epoch_then_resume_loses_at_most_one_epoch(fake_data_root, tmp_path):
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "solutions.train", *TINY, "--batch-size", "8", "--epochs", "200", "--out", str(out)]
    env = {**os.environ, "VAE_DATA_ROOT": str(fake_data_root), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not (out / "metrics.json").exists() or len(json.loads((out / "metrics.json").read_text())) < 2:
            assert time.monotonic() < deadline and process.poll() is None, "training did not reach epoch 2"
            time.sleep(0.05)
        time.sleep(0.3)  # now somewhere inside a later epoch
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    saved = torch.load(out / "checkpoint.pt", weights_only=False)  # never half-written
    done = saved["epoch"]
    assert done >= 2 and not list(out.glob(".*.tmp")), "a killed run must leave no temp files behind"
    result = run_cli("--epochs", str(done + 1), "--out", str(out), "--resume", data_root=fake_data_root)
    assert result.returncode == 0, result.stderr
    assert f"resuming {out} after epoch {done}" in result.stdout
    history = json.loads((out / "metrics.json").read_text())
    assert [row["epoch"] for row in history] == list(range(1, done + 2))


def test_diverging_loss_stops_cleanly_and_keeps_the_last_good_checkpoint(fake_data_root, tmp_path, monkeypatch,
                                                                         capsys):
    out = tmp_path / "nan"
    base = [*TINY, "--data-root", str(fake_data_root), "--out", str(out)]
    assert main([*base, "--epochs", "1"]) == 0
    good = weights(out)

    real_negative_elbo = train_module.negative_elbo

    def diverging(model, likelihood, x):
        recon, kl = real_negative_elbo(model, likelihood, x)
        return recon * float("nan"), kl

    monkeypatch.setattr(train_module, "negative_elbo", diverging)
    assert main([*base, "--epochs", "2", "--resume"]) == 1
    message = capsys.readouterr().err
    assert "loss became nan at epoch 2" in message and "last good checkpoint (epoch 1)" in message
    for name, tensor in weights(out).items():
        assert torch.equal(tensor, good[name]), "the checkpoint must not be overwritten by a diverged model"


def test_existing_run_and_conflicting_resume_flags_are_refused(fake_data_root, tmp_path, capsys):
    base = [*TINY, "--data-root", str(fake_data_root), "--out", str(tmp_path / "run"), "--epochs", "1"]
    assert main(base) == 0
    with pytest.raises(SystemExit) as exit_info:
        main(base)
    assert exit_info.value.code == 2 and "pass --resume" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--resume", "--lr", "0.1"])
    assert "--lr 0.1 (saved: 0.001)" in capsys.readouterr().err


def test_missing_data_and_bad_flags_give_one_line_errors(tmp_path, capsys):
    result = run_cli(*TINY, "--epochs", "1", "--out", str(tmp_path / "run"), data_root=tmp_path / "empty")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "make data" in lines[0]
    result = run_cli("--model", "transformer", data_root=tmp_path)
    assert result.returncode == 2 and "invalid choice: 'transformer'" in result.stderr
    for flag, value, message in (("--grad-clip", "0", "must be positive"), ("--warmup-steps", "-5", "0 or more")):
        with pytest.raises(SystemExit) as exit_info:
            main([flag, value, "--out", str(tmp_path / "bad")])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_kl_warmup_ramps_beta_linearly():
    config = TrainConfig(beta=2.0, kl_warmup_epochs=4)
    assert [train_module.kl_weight(config, e) for e in (0, 1, 2, 4, 9)] == [0.0, 0.5, 1.0, 2.0, 2.0]


def test_a_step_with_a_non_finite_gradient_is_skipped_and_reported():
    class SquareRootAtZero(torch.nn.Module):  # loss sqrt(w) = 0 at w = 0, where its gradient is infinite
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return self.w.sqrt().expand(len(x)), torch.zeros(len(x))

    model = SquareRootAtZero()
    loss, grad_norm = train_module.training_step(model, torch.optim.Adam(model.parameters()), torch.zeros(2, 3, 4, 4),
                                                 beta=1.0)
    assert loss == 0.0 and not math.isfinite(grad_norm) and model.w.item() == 0.0


def test_cosine_schedule_warms_up_then_decays_to_zero():
    config = TrainConfig(lr=2e-3, lr_schedule="cosine", warmup_steps=4)
    rates = [train_module.learning_rate(config, step, progress)
             for step, progress in ((0, 0.0), (3, 0.0), (50, 0.5), (99, 1.0), (120, 1.2))]
    assert rates == pytest.approx([5e-4, 2e-3, 1e-3, 0.0, 0.0], abs=1e-12)
    assert train_module.learning_rate(TrainConfig(lr=2e-3), 500, 0.9) == 2e-3  # constant: the flag's value


def test_cosine_schedule_reaches_zero_at_the_last_step_and_is_logged(fake_data_root, tmp_path):
    out = tmp_path / "cosine"
    assert main([*TINY, "--epochs", "2", "--lr-schedule", "cosine", "--data-root", str(fake_data_root),
                 "--out", str(out)]) == 0
    history = json.loads((out / "metrics.json").read_text())
    # 96 images in batches of 16: 6 steps per epoch; the last step's progress is 11/12 of the run.
    assert history[0]["lr"] == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi * 5 / 12)))
    assert history[1]["lr"] == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi * 11 / 12)))


def test_boolean_flags_parse_both_ways_and_round_trip_through_train_command(tmp_path):
    parser = train_module.build_parser()
    off, _ = train_module.config_from_args(parser.parse_args(["--no-channels-last", "--out", str(tmp_path / "a")]),
                                           parser)
    on, _ = train_module.config_from_args(parser.parse_args(["--out", str(tmp_path / "b")]), parser)
    assert (off.channels_last, on.channels_last) == (False, True)
    command = train_module.train_command(vars(off), "runs/x")
    assert "--no-channels-last" in command
    again, _ = train_module.config_from_args(parser.parse_args(command.split()[3:]), parser)
    assert again == TrainConfig(**{**vars(off), "out": "runs/x"})


def test_two_process_ddp_keeps_ranks_in_sync(fake_data_root, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "VAE_DATA_ROOT": str(fake_data_root), "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                                 "-m", "solutions.train", *TINY, "--epochs", "2", "--out", str(out)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)  # its own process group: a hang kills the workers too
    try:
        _, stderr = launcher.communicate(timeout=180)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
    assert launcher.returncode == 0, stderr[-2000:]
    history = json.loads((out / "metrics.json").read_text())
    assert [row["ranks_in_sync"] for row in history] == [True, True]
    # 96 images, 2 ranks, batches of 16: 3 steps per rank per epoch.
    assert history[-1]["step"] == 6


def test_hierarchical_vae_trains_through_the_cli(fake_data_root, tmp_path):
    out = tmp_path / "hvae"
    assert main([*HVAE, "--epochs", "1", "--data-root", str(fake_data_root), "--out", str(out)]) == 0
    model, config, history = load_run(out)
    assert config["model"] == "hvae" and history[0]["test_bpd"] < 16
