"""train_vae raises KeyboardInterrupt, as if the grader had been stopped.

fails train_vae: raised KeyboardInterrupt
"""


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    raise KeyboardInterrupt
