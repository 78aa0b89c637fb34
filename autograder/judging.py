"""What judges use: reading the raw outputs of a probe as tensors (with teaching messages when they are not
what the contract says) and comparing them with the values the parent computed itself."""
from __future__ import annotations

import math

import torch


def describe(value) -> str:
    """A raw output in words, for messages: 'a tensor of shape (5, 7)', 'a tuple of 2', 'None'."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, dict) and "__foreign__" in value:
        return f"a {value['__foreign__']}"
    if value is None:
        return "None"
    return f"a {type(value).__name__} ({value!r:.40})"


def shape_text(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def tensor(value, what: str, shape=None) -> torch.Tensor:
    """The output as a float64 tensor, asserting it is a floating-point tensor of the given shape."""
    assert isinstance(value, torch.Tensor), f"{what} returned {describe(value)}; expected a torch.Tensor"
    if shape is not None:
        assert tuple(value.shape) == tuple(shape), \
            f"{what} returned shape {shape_text(value.shape)}, expected {shape_text(tuple(shape))}"
    assert value.is_floating_point(), f"{what} returned a {value.dtype} tensor; expected floats"
    return value.double()


def finite(value: torch.Tensor, what: str) -> torch.Tensor:
    assert torch.isfinite(value).all(), f"{what} contains NaN or inf"
    return value


def items(value, what: str, names: tuple[str, ...]) -> list:
    """A tuple/list output with one entry per name, e.g. (loss, recon, kl)."""
    expected = f"a tuple ({', '.join(names)})"
    assert isinstance(value, (list, tuple)), f"{what} returned {describe(value)}; expected {expected}"
    assert len(value) == len(names), f"{what} returned {len(value)} values; expected {expected}"
    return list(value)


def number(value, what: str) -> float:
    """A scalar output: a Python number or a one-element tensor."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return value.item()
    assert isinstance(value, (int, float)) and not isinstance(value, bool), \
        f"{what} returned {describe(value)}; expected a number (a 0-dim tensor or a float)"
    return float(value)


def close(got: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Same shape and allclose in float64 (NaN never matches)."""
    return got.shape == expected.shape and torch.allclose(got.double(), expected.double(), rtol=rtol, atol=atol)


def near(got: float, expected: float, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    return math.isfinite(got) and abs(got - expected) <= atol + rtol * abs(expected)


def diagnose(got: torch.Tensor, mistakes: dict[str, torch.Tensor], rtol: float = 1e-3, atol: float = 1e-4) -> str:
    """The message of the first known mistake whose result the output matches ('' when none does)."""
    return next((message for message, wrong in mistakes.items() if close(got, wrong, rtol, atol)), "")


def show(values: torch.Tensor, count: int = 3) -> str:
    """The first few values, for 'got ..., expected ...' messages."""
    flat = values.detach().double().flatten()[:count].tolist()
    return "[" + ", ".join(f"{v:.4g}" for v in flat) + (", ...]" if values.numel() > count else "]")
