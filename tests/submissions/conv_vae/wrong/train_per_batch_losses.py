"""One loss per batch returned instead of one per epoch.

fails train_vae: return one mean loss per epoch, not one per batch
"""
import torch


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        for batch in loader:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            x_hat, mu, logvar = model(x)
            loss, _, _ = vae_loss(x_hat, x, mu, logvar, beta)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses
