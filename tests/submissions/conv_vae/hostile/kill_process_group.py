"""train_vae kills its whole process group: only its own process dies (the relay, its namespace's first
process, ignores it, and the grader's processes are not in the group).

fails train_vae: crashed the Python process (SIGKILL)
"""
import os
import signal


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    os.killpg(0, signal.SIGKILL)
