"""Adam at its default learning rate, whatever lr says.

fails train_vae: 0.001 (Adam's default lr), not lr=0.01
"""
import torch


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters())
    history = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for batch in loader:
            x = (batch[0] if isinstance(batch, (list, tuple)) else batch).to(device)
            x_hat, mu, logvar = model(x)
            loss, _, _ = vae_loss(x_hat, x, mu, logvar, beta)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
            count += len(x)
        history.append(total / count)
    return history
