"""train_vae writes 8 MB files into every place it can (its scratch folder, /tmp, HOME, /dev/shm) until the disk
is full, then reports how much it managed. Its only writable places are two small in-memory file systems of its
own, gone when its check ends.

fails train_vae: No space left on device
"""
import os


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    written, error = 0, None
    block = b"x" * (1 << 20)
    for folder in dict.fromkeys(os.path.realpath(f) for f in (os.getcwd(), "/tmp", os.path.expanduser("~"), "/dev/shm")):
        for index in range(64):
            try:
                with open(os.path.join(folder, f"filler-{index}"), "wb") as handle:
                    for _ in range(8):
                        handle.write(block)
                        written += len(block)
            except OSError as err:
                error = err
                break
    raise RuntimeError(f"wrote {written >> 20} MB, then {error}")
