"""kl_divergence is a placeholder returning zeros; a class body then rewrites the code of the jail's probe for
kl_divergence (found through the garbage collector, so that every reference to it changes) to report made-up
outputs instead. That changes only what its own process reports, and the grader judges reports against values it
computes itself: made-up numbers fail.

fails kl_divergence: kl_divergence(mu, logvar) =
"""
import gc

import torch


def kl_divergence(mu, logvar):
    return torch.zeros(mu.shape[0])


def _forged(student, inputs):
    import torch

    return {"kl": torch.ones(6), "kl_prior": torch.zeros(3)}


class _Patch:
    for _object in gc.get_objects():
        if getattr(_object, "__name__", None) == "probe_kl_divergence" and hasattr(_object, "__code__"):
            _object.__code__ = _forged.__code__
