"""A small conv VAE trained on CIFAR-10, shipped with the course so nobody must retrain for `interpolation`.

The file holds two `torch.export` programs (encoder and decoder) and a model card: the weights and the
computation graph, but no Python source, so it gives away no assignment answer. Load it with

    from course_utils.pretrained import load_pretrained_vae
    model = load_pretrained_vae("cifar10")
    mu, logvar = model.encode(x)      # x: (B, 3, 32, 32) in [0, 1]  ->  (B, D), (B, D)
    x_hat = model.decode(mu)          # (B, D) -> (B, 3, 32, 32) in [0, 1]
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import torch
from torch import nn

PRETRAINED_DIR = Path(__file__).parent
AVAILABLE = {"cifar10": PRETRAINED_DIR / "cifar10_conv_vae.zip"}


class PretrainedVAE(nn.Module):
    """encode/decode of an exported VAE; `card` says how it was trained (run, epochs, test metrics)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, card: dict):
        super().__init__()
        self.encoder, self.decoder, self.card = encoder, decoder, card
        self.latent_dim = card["latent_dim"]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 4 or tuple(x.shape[1:]) != tuple(self.card["image_shape"]):
            raise ValueError(f"the pretrained {self.card['dataset']} VAE encodes (B, {', '.join(map(str, self.card['image_shape']))}) "
                             f"images in [0, 1], got {tuple(x.shape)}: add a batch dimension with x.unsqueeze(0)?")
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def train(self, mode: bool = True) -> "PretrainedVAE":
        # Exported graphs are frozen in eval mode and refuse train(); the flag alone keeps model.eval() working.
        self.training = mode
        return self


def save_pretrained(path: str | Path, encoder: nn.Module, decoder: nn.Module, card: dict) -> None:
    """Export `encoder` (x -> (mu, logvar)) and `decoder` (z -> x_hat) with a dynamic batch size into one zip."""
    batch = torch.export.Dim("batch", min=1, max=65536)
    example_x = torch.rand(2, *card["image_shape"])
    example_z = torch.zeros(2, card["latent_dim"])
    programs = {"encoder.pt2": torch.export.export(encoder, (example_x,), dynamic_shapes=({0: batch},)),
                "decoder.pt2": torch.export.export(decoder, (example_z,), dynamic_shapes=({0: batch},))}
    for program in programs.values():
        for node in program.graph.nodes:  # torch.export records the exporting source lines: ship no source
            for key in ("stack_trace", "nn_module_stack", "source_fn_stack"):
                node.meta.pop(key, None)
    with zipfile.ZipFile(path, "w") as archive:
        for name, program in programs.items():
            buffer = io.BytesIO()
            torch.export.save(program, buffer)
            archive.writestr(name, buffer.getvalue())
        archive.writestr("card.json", json.dumps(card, indent=2))


def load_pretrained_vae(name: str = "cifar10", path: str | Path | None = None) -> PretrainedVAE:
    """Load a shipped pretrained VAE (CPU, eval mode). `path` loads another exported file instead."""
    if path is None and name not in AVAILABLE:
        raise ValueError(f"no pretrained model named {name!r}; available: {', '.join(AVAILABLE)}")
    path = Path(path or AVAILABLE[name])
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: reinstall the course files (the model ships with course_utils)")
    with zipfile.ZipFile(path) as archive:
        card = json.loads(archive.read("card.json"))
        encoder, decoder = (torch.export.load(io.BytesIO(archive.read(f"{part}.pt2"))).module()
                            for part in ("encoder", "decoder"))
    return PretrainedVAE(encoder, decoder, card).eval()
