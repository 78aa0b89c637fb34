"""train_vae calls sys.exit().

fails train_vae: called sys.exit()
"""
import sys


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    sys.exit(0)
