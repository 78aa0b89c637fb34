"""sample_near starts 20 long-running processes, then loops: all of them are killed with the sandbox.

fails sample_near: did not finish within
"""
import subprocess


def sample_near(model, x, n, scale=0.5, generator=None):
    for _ in range(20):
        subprocess.Popen(["sleep", "86.4231"])
    while True:
        pass
