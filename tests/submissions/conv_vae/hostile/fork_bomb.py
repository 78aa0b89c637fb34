"""train_vae forks without end. Its processes are capped per submission, it is killed at the check's deadline
with everything it started, and the other submissions are graded as if it had not been there.

fails train_vae: did not finish within
"""
import os


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    while True:
        try:
            os.fork()
        except OSError:
            pass
