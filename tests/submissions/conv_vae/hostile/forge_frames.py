"""A class body writes well-formed "result" frames, in the grader's own format, claiming every check passed, into
every file descriptor from 3 to 63. In the jail the definitions run in each check's own process, whose only
descriptor leads to the relay; anything written before its one result spoils only that check.

fails all: the grader's result channel was written to by the submission
"""
import os
import sys

import torch


class _Forge:
    for _name, _module in list(sys.modules.items()):
        if _name.endswith("jail.wire"):
            for _check in ("reparameterize", "kl_divergence", "vae_loss", "conv_vae_shapes", "conv_vae_layers",
                           "train_vae"):
                _frame = _module.frame(_module.encode({"kind": "result", "check": _check, "status": "ok",
                                                       "defined": True, "outputs": {"passed": True}}))
                for _fd in range(3, 64):
                    try:
                        os.write(_fd, _frame)
                    except OSError:
                        pass
