"""The epoch's summed loss, never divided by the number of samples.

fails train_vae: returned the epoch's total loss
"""
import torch


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        total = 0.0
        for batch in loader:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            x_hat, mu, logvar = model(x)
            loss, _, _ = vae_loss(x_hat, x, mu, logvar, beta)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        history.append(total)
    return history
