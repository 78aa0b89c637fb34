"""Computes gradients but never takes an optimizer step.

fails train_vae: never changed the model's parameters
"""
import torch


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for batch in loader:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            x_hat, mu, logvar = model(x)
            loss, _, _ = vae_loss(x_hat, x, mu, logvar, beta)
            optimizer.zero_grad()
            loss.backward()
            total += loss.item() * len(x)
            count += len(x)
        history.append(total / count)
    return history
