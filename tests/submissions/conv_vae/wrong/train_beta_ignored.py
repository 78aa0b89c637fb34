"""beta is never passed on to vae_loss.

fails train_vae: ignores beta
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
            loss, _, _ = vae_loss(x_hat, x, mu, logvar)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
            count += len(x)
        history.append(total / count)
    return history
