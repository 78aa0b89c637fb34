"""The benchmarks run end to end in a tiny mode on fake data, print their summary line last, and save it with the
machine and the measurements; their building blocks measure what they claim."""
import contextlib
import io
import json

import pytest
import torch

from benchmarks import data, grading, quality, report, throughput
from benchmarks.__main__ import main as run_benchmarks
from benchmarks.common import BenchmarkSkipped, percentile
from course_utils.data import cifar10

pytestmark = pytest.mark.xdist_group("benchmarks")  # one worker builds the tiny results once, for every test here


def run_capturing(benchmark, config, results_dir) -> tuple[dict, list[str]]:
    """(the saved payload, the printed lines)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        payload = benchmark.run(config, results_dir=results_dir)
    return payload, printed.getvalue().strip().splitlines()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, fake_data_root):
    """Every benchmark once, tiny, into one results folder: {name: (payload, printed lines)}, and the folder."""
    results_dir = tmp_path_factory.mktemp("results")
    configs = {
        throughput: throughput.ThroughputConfig(models=("fc", "conv"), batch_size=4, warmup=1, repeats=2,
                                                matmul_sizes=(32, 64), matmul_repeats=2, device="cpu"),
        data: data.DataConfig(batch_size=8, cache_batches=5, decoded_batches=2, warmup_batches=1, workers=(0,),
                              step_repeats=1, data_root=str(fake_data_root), device="cpu"),
        quality: quality.QualityConfig(budgets={"conv": (0.001, 0.002)}, batch_size=16,
                                       data_root=str(fake_data_root), limit=32, eval_limit=20, device="cpu"),
        grading: grading.GradingConfig(assignments=("interpolation",), wrong_per_assignment=0, jobs=1, folder_size=3,
                                       nbgrader=False, baseline="HEAD"),
    }
    return {module.NAME: run_capturing(module, config, results_dir) for module, config in configs.items()}, results_dir


@pytest.mark.parametrize("name", ["throughput", "data", "quality", "grading"])
def test_summary_is_printed_last_and_saved_with_the_machine(tiny, name):
    runs, results_dir = tiny
    payload, lines = runs[name]
    saved = json.loads((results_dir / f"{name}.json").read_text())
    assert lines[-1] == saved["summary"] == payload["summary"] and saved["summary"].startswith(f"{name}: ")
    assert saved["mode"] == "quick" and saved["benchmark"] == name
    machine = saved["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["torch"] == torch.__version__
    assert machine["date"] and machine["git_commit"] and len(machine["load_average"]) == 3


def test_throughput_times_each_applicable_variant(tiny):
    models = tiny[0]["throughput"][0]["results"]["models"]
    assert set(models["conv"]["variants"]) == {"eager", "channels_last"}
    assert set(models["fc"]["variants"]) == {"eager"}, "channels_last changes nothing without convolutions"
    for model in models.values():
        for timing in model["variants"].values():
            assert timing["images_per_second"] == pytest.approx(4 / timing["seconds"])
            assert timing["gflops"] == pytest.approx(model["flops_per_step"] / timing["seconds"] / 1e9)


def test_step_flops_match_a_hand_count_for_the_fc_vae():
    # FCVAE: Linear layers 3072->1024->1024 encoder, two 1024->128 heads, 128->1024->1024->3072 decoder.
    # Forward: 2*B*in*out per layer. Backward: the same for weight gradients and again for input gradients,
    # except into the first layer, whose input (the images) needs no gradient.
    batch = 2
    layers = [(3072, 1024), (1024, 1024), (1024, 128), (1024, 128), (128, 1024), (1024, 1024), (1024, 3072)]
    forward = sum(2 * batch * fan_in * fan_out for fan_in, fan_out in layers)
    expected = 3 * forward - 2 * batch * 3072 * 1024
    assert throughput.step_flops("fc", batch, torch.device("cpu")) == expected


def test_training_step_moves_the_weights_in_every_variant_but_compile():
    for variant in ("eager", "channels_last"):
        step = throughput.TrainingStep("conv", variant, 4, torch.device("cpu"))
        before = [p.detach().clone() for p in step.objective.parameters()]
        step()
        assert any(not torch.equal(b, p) for b, p in zip(before, step.objective.parameters())), variant


def test_data_compares_every_path_with_the_training_step(tiny):
    results = tiny[0]["data"][0]["results"]
    assert set(results["batches_per_second"]) == {"cache", "jpeg, 0 workers", "pickle, 0 workers"}
    assert not results["fake_data"] and "real CIFAR-10" in results["sources"]
    for name, rate in results["batches_per_second"].items():
        assert results["batches_per_training_step"][name] == pytest.approx(rate * results["training_step_seconds"])


def test_pickle_layout_reads_back_exactly_through_torchvision(tmp_path):
    images, labels = data.stand_in_images(23)
    data.write_pickle_layout(images, labels, tmp_path)
    dataset = cifar10(tmp_path, "train")  # the official layout: torchvision's CIFAR10 reader
    assert len(dataset) == 23
    for i in (0, 7, 22):
        image, label = dataset[i]
        assert torch.equal((image * 255).round().to(torch.uint8), images[i]) and label == labels[i]


def test_data_generates_a_stand_in_and_says_so(tmp_path):
    config = data.DataConfig(batch_size=8, cache_batches=3, decoded_batches=1, warmup_batches=1, workers=(2,),
                             step_repeats=1, data_root=str(tmp_path / "empty"), stand_in_images=40, device="cpu")
    payload, lines = run_capturing(data, config, tmp_path / "results")
    assert payload["results"]["fake_data"] and "FAKE DATA" in lines[0] and "FAKE DATA" in lines[-1]
    assert set(payload["results"]["batches_per_second"]) == {"cache", "jpeg, 2 workers", "pickle, 2 workers"}


def test_quality_trains_one_run_per_budget_with_its_recipe(tiny):
    payload, lines = tiny[0]["quality"]
    conv = payload["results"]["models"]["conv"]
    assert set(conv["at_budget"]) == {"0.001", "0.002"}
    assert all(4 < row["test_bpd"] < 16 for row in [*conv["history"], *conv["at_budget"].values()])
    assert conv["history"][-1] == conv["at_budget"]["0.002"], "the history is the longest budget's run"
    assert "--lr-schedule cosine" in conv["command"] and "--max-minutes 0.002" in conv["command"]
    assert any("bpd" in line for line in lines) and any("VDVAE" in line for line in lines)


def test_bpd_at_reads_the_budget_run_else_the_longest_run_before_that_time():
    history = [{"seconds": 30, "test_bpd": 6.0}, {"seconds": 65, "test_bpd": 5.5}, {"seconds": 121, "test_bpd": 5.0}]
    at_budget = {1.0: {"test_bpd": 5.8}, 2.0: history[-1]}  # the 2-minute run ran out one step late, at 121 s
    assert quality.bpd_at(2.0, history, at_budget) == 5.0
    assert quality.bpd_at(1.0, history, at_budget) == 5.8, "a budget's own run, not the longer run's mid-way epoch"
    assert quality.bpd_at(1.5, history, at_budget) == 5.5
    assert quality.bpd_at(0.25, history, at_budget) is None
    assert quality.bpd_at(5.0, history, at_budget) is None, "no run lasted 5 minutes"


def test_quality_skips_without_real_data(tmp_path):
    with pytest.raises(BenchmarkSkipped, match="make data"):
        quality.run(quality.QualityConfig(data_root=str(tmp_path)), results_dir=tmp_path)


def test_runner_reports_a_skipped_benchmark_and_ends_with_the_summaries(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VAE_DATA_ROOT", str(tmp_path / "no-data"))
    assert run_benchmarks(["--only", "quality", "--results", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2] == "== summary" and lines[-1].startswith("quality: skipped: ")


def test_grading_grades_the_reference_with_full_marks(tiny):
    interpolation = tiny[0]["grading"][0]["results"]["assignments"]["interpolation"]
    assert interpolation["reference_full_marks"] and interpolation["wrong_graded"] == 0
    assert interpolation["median_seconds"] > 0 and interpolation["folder_submissions_per_minute"] > 0
    assert interpolation["folder_size"] == 3, "the one chosen submission, repeated to fill the folder"
    baseline = interpolation["baseline"]  # the committed grader, timed on the same files in the same run
    assert len(baseline["revision"]) == 40 and baseline["median_seconds"] > 0
    assert interpolation["submissions"][0]["baseline_score"] == interpolation["submissions"][0]["score"]


def test_sample_spreads_evenly():
    assert grading.sample(list(range(5)), 3) == [0, 2, 4] and grading.sample(list(range(5)), 1) == [0]
    assert grading.sample(list(range(4)), None) == [0, 1, 2, 3] and grading.sample(list(range(4)), 0) == []


def test_percentile_interpolates_like_numpy():
    values = [3.0, 1.0, 4.0, 1.5, 9.0]
    for q in (0, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(torch.quantile(torch.tensor(values), q / 100)))


def test_report_renders_every_section_from_the_json(tiny):
    runs, results_dir = tiny
    text = report.render(report.load_results(results_dir))
    for heading in ("## Goals", "## Training-step throughput", "## Data loading", "## Quality", "## Grading"):
        assert heading in text
    for payload, _ in runs.values():
        assert payload["summary"] in text
    conv = runs["throughput"][0]["results"]["models"]["conv"]
    assert f"{conv['flops_per_step'] / 1e9:.1f}" in text and "VDVAE (Child, 2021)" in text
    assert "Side by side in the same run with the grader of revision" in text


def test_a_run_is_noisy_only_when_other_processes_loaded_the_cpu():
    def payload(load):
        return {"mode": "record", "machine": {"date": "2026-11-25", "git_commit": "abc", "cpu": "AMD EPYC", "cores": 2,
                                             "torch_threads": 2, "device": "cpu", "torch": "2.14.1",
                                             "load_average": [load, load, load]}}

    assert "Noisy" not in report.conditions(payload(2.04)), "a 2-thread run on 2 cores loads them by itself"
    assert "Noisy" in report.conditions(payload(8.6))
