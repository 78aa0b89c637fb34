"""Outputs crafted to make the grader run out of memory or time: kl_divergence returns a stride-0 view of one
float with a billion elements, and a class body replaces the result encoder so that train_vae's outputs claim a
tensor of 10^10 elements backed by 4 bytes. The jail sends plain data only and the grader's decoder checks every
size before it allocates: each fails without costing the grader memory.

fails kl_divergence: too large to check
fails train_vae: the grader's result channel was written to by the submission
"""
import json
import struct
import sys

import torch


_reference_kl_divergence = kl_divergence  # noqa: F821 (the reference's, defined before this file)


def kl_divergence(mu, logvar):
    if tuple(mu.shape) == (6, 5):  # the inputs of kl_divergence's own check; elsewhere (vae_loss) the real KL
        return torch.ones(1).expand(10**9)
    return _reference_kl_divergence(mu, logvar)


def _forged_payload(message):
    tree = ["d", [["kind", ["s", "result"]],
                  ["outputs", ["d", [["kl", ["T", "float32", [10**10], 0, 4]], ["kl_prior", ["T", "float32", [3], 4, 12]]]]]]]
    encoded = json.dumps(tree).encode()
    return struct.pack(">I", len(encoded)) + encoded + bytes(16)


class _Forge:
    for _name, _module in list(sys.modules.items()):
        if _name.endswith("jail.wire"):
            _encode = _module.encode
            _module.encode = (lambda message, _encode=_encode: _forged_payload(message)
                              if "runs" in (message.get("outputs") or {}) else _encode(message))
