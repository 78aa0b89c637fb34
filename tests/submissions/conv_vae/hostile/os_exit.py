"""train_vae ends the process with os._exit(0), skipping everything.

fails train_vae: stopped without a result
"""
import os


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    os._exit(0)
