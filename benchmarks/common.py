"""What every benchmark shares: timing, statistics, the machine description and the results file."""
from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import torch
import torchvision

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"


class BenchmarkSkipped(Exception):
    """A benchmark cannot run here (no real data, no corpus); the message says why and what to do."""


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer measures the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_calls(fn, repeats: int, warmup: int, device: torch.device = torch.device("cpu")) -> list[float]:
    """Seconds per call of fn(), `repeats` times, after `warmup` untimed calls (caches, allocator, lazy init)."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        synchronize(device)
        seconds.append(time.perf_counter() - started)
    return seconds


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: list[float]) -> float:
    return statistics.median(values)


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str:
    """HEAD's short hash, with "+dirty" when the working tree differs from it; "unknown" outside a checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_info(device: torch.device | None = None) -> dict:
    """Where and when a benchmark ran. The load average shows how much other work shared the CPU."""
    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": [round(load, 2) for load in os.getloadavg()],  # over the last 1, 5 and 15 minutes
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git_commit": git_commit(),
    }
    if device is not None:
        info["device"] = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return info


def write_result(name: str, record: bool, config: dict, results: dict, summary: str,
                 results_dir: str | os.PathLike | None = None, device: torch.device | None = None) -> dict:
    """Save one run as results_dir/<name>[-record].json: machine, config, measurements and the summary line.

    Outputs: what was saved, with its path under "file"."""
    path = Path(results_dir or RESULTS_DIR) / f"{name}{'-record' if record else ''}.json"
    payload = {"benchmark": name, "mode": "record" if record else "quick", "machine": machine_info(device),
               "config": config, "results": results, "summary": summary}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return {**payload, "file": str(path)}
