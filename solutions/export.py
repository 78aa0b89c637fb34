"""Export a trained run as the course's shipped pretrained model (no Python source, just graphs and weights).

    python -m solutions.export runs/cifar10-small course_utils/pretrained/cifar10_conv_vae.zip
"""
from __future__ import annotations

import argparse
import sys

from torch import nn

from course_utils.pretrained import save_pretrained
from solutions.train import load_run


class Method(nn.Module):
    """One method of a model (encode or decode) as a module's forward, which is what torch.export traces."""

    def __init__(self, model: nn.Module, name: str):
        super().__init__()
        self.model, self.name = model, name

    def forward(self, tensor):
        return getattr(self.model, self.name)(tensor)


def export_run(run_dir: str, out: str) -> dict:
    model, config, history = load_run(run_dir)
    last = history[-1]
    card = {"dataset": config["dataset"], "model": config["model"], "latent_dim": config["latent_dim"],
            "image_shape": [3, config["image_size"], config["image_size"]], "run": run_dir,
            "command": f"python -m solutions.train --dataset {config['dataset']} --model {config['model']} "
                       f"--latent-dim {config['latent_dim']} --epochs {config['epochs']} --seed {config['seed']}",
            "epochs": last["epoch"], "train_minutes": round(last["seconds"] / 60, 1),
            **{key: value for key, value in last.items() if key.startswith("test_")}}
    save_pretrained(out, Method(model, "encode"), Method(model, "decode"), card)
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
