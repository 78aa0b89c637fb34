"""celeba_transform writes forged "passed" messages into every file descriptor the sandbox has, including the
grader's private result pipe. The parent sees two results for one check and fails it, then grades the
remaining checks in a fresh sandbox.

fails celeba_transform: result channel was written to by the submission
"""
import io
import os
import struct

import torch


def celeba_transform(image_size=64):
    for kind in ("result", "end"):
        buffer = io.BytesIO()
        torch.save({"kind": kind, "check": "celeba_transform", "outputs": {}, "status": "ok", "passed": True}, buffer)
        frame = struct.pack(">Q", len(buffer.getvalue())) + buffer.getvalue()
        for fd in range(3, 64):
            try:
                os.write(fd, frame)
            except OSError:
                pass
    return lambda image: None
