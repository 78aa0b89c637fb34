"""Export a trained run as the course's shipped pretrained model (no Python source, just graphs and weights).

    python -m solutions.export runs/cifar10-small course_utils/pretrained/cifar10_conv_vae.zip
"""
from __future__ import annotations

import argparse
import copy
import sys

import torch
from torch import nn

from course_utils.pretrained import save_pretrained
from solutions.train import load_run, train_command


class Method(nn.Module):
    """One method of a model (encode or decode) as a module's forward, which is what torch.export traces."""

    def __init__(self, model: nn.Module, name: str):
        super().__init__()
        self.model, self.name = model, name

    def forward(self, tensor):
        return getattr(self.model, self.name)(tensor)


def method_module(model: nn.Module, name: str, example: torch.Tensor) -> Method:
    """Method(model, name) over a shallow copy of the model that keeps only the top-level submodules the method
    uses, so the exported encoder carries no decoder weights and vice versa."""
    outputs = getattr(model, name)(example)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    model.zero_grad(set_to_none=True)
    sum(output.sum() for output in outputs).backward()  # the parameters that receive a gradient are used
    used = {parameter.split(".")[0] for parameter, value in model.named_parameters() if value.grad is not None}
    model.zero_grad(set_to_none=True)
    pruned = copy.copy(model)
    pruned._modules = {child: module for child, module in model._modules.items() if child in used}
    return Method(pruned, name)


def export_run(run_dir: str, out: str) -> dict:
    model, config, history = load_run(run_dir)
    last = history[-1]
    card = {"dataset": config["dataset"], "model": config["model"], "latent_dim": config["latent_dim"],
            "image_shape": [3, config["image_size"], config["image_size"]], "run": run_dir,
            "command": train_command({**config, "epochs": last["epoch"]}, run_dir),
            "epochs": last["epochs_trained"], "train_minutes": round(last["seconds"] / 60, 1),
            **{key: value for key, value in last.items() if key.startswith("test_")}}
    side = config["image_size"]
    encoder = method_module(model, "encode", torch.rand(2, 3, side, side))
    decoder = method_module(model, "decode", torch.zeros(2, config["latent_dim"]))
    save_pretrained(out, encoder, decoder, card)
    return card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m solutions.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="run directory written by solutions.train")
    parser.add_argument("out", help="zip file to write")
    args = parser.parse_args(argv)
    try:
        card = export_run(args.run, args.out)
    except FileNotFoundError as error:
        parser.error(str(error))
    print(f"wrote {args.out}: {card}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
