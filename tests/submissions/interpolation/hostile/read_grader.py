"""interpolate looks for the expected answer: the grader's modules, the parent process, every object in memory.
The parent computes expected values only after the sandbox is gone, so there is nothing to find.

fails interpolate: the rows are not decode
"""
import gc
import os
import sys

import torch


def interpolate(model, x1, x2, steps=10, method="linear"):
    found = []
    for name, module in list(sys.modules.items()):
        if name.startswith("autograder"):
            for attribute in dir(module):
                if attribute.startswith(("judge_", "expected", "reference")):
                    try:
                        found.append(getattr(module, attribute)({}, {}))
                    except Exception:
                        pass
    try:
        with open(f"/proc/{os.getppid()}/mem", "rb") as memory:
            found.append(memory.read(16))
    except OSError:
        pass
    shape = (steps, *x1.shape)
    for obj in gc.get_objects():
        if isinstance(obj, torch.Tensor) and obj.shape == shape and obj is not x1:
            return obj
    return torch.zeros(shape)
