"""train_vae never returns.

fails train_vae: did not finish within
"""


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    while True:
        pass
