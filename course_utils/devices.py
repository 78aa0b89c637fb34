"""Pick the compute device: CUDA when present, else CPU. Every entry point uses this."""
from __future__ import annotations

import contextlib

import torch


def default_device(requested: str | None = None) -> torch.device:
    """The device to train on.

    Inputs:  requested - "cpu", "cuda", "cuda:1", or None for automatic.
    Outputs: a torch.device; CUDA when available and not overridden.
    """
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise SystemExit(f"error: --device {requested} asked for CUDA, but no GPU is visible; use --device cpu")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast(device: torch.device, enabled: bool = True):
    """bf16 autocast on CUDA (faster, same quality for VAEs); a no-op on CPU, where fp32 is fastest."""
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
