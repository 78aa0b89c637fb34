"""train_vae asks torch for 20 GB; the memory cap turns that into an error.

fails train_vae: raised RuntimeError
"""
import torch


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    hoard = torch.ones(5 * 2**30)
    return [hoard.sum().item()] * epochs
