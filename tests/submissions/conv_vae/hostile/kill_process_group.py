"""train_vae kills its whole process group: the sandbox dies mid-check.

fails train_vae: ended the sandbox process without returning
"""
import os
import signal


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    os.killpg(0, signal.SIGKILL)
