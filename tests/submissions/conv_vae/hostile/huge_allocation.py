"""train_vae asks for 20 GB; the memory cap turns that into an error.

fails train_vae: ran out of memory
"""


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    hoard = bytearray(20 * 2**30)
    return [float(len(hoard))] * epochs
