"""Hidden checks of conv_vae: reparameterize, kl_divergence, vae_loss, the ConvVAE model and train_vae.

The contract is solutions/vae.py. Each check is inputs_NAME / probe_NAME / judge_NAME (autograder/checks/__init__.py).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from autograder.judging import close, describe, diagnose, finite, items, near, number, show, tensor
from autograder.jail.probes.conv_vae import TRAIN_BATCH, TRAIN_SAMPLES, constructor_label, train_call_label


# --------------------------------------------------------------------------------------------------------------
# reparameterize: z = mu + eps * exp(0.5 * logvar), eps ~ N(0, I)


def inputs_reparameterize(generator):
    rows, dims = 1000, 100  # 100k draws pin the noise's mean and std down to ~0.3%
    return {"mu": 2 * torch.randn(rows, dims, generator=generator),
            "logvar": torch.linspace(-3.0, 2.0, dims).repeat(rows, 1)}  # every column its own std


def judge_reparameterize(inputs, out):
    mu, logvar = inputs["mu"].double(), inputs["logvar"].double()
    z = finite(tensor(out["z"], "reparameterize(mu, logvar)", mu.shape), "z")
    noise = z - mu
    assert noise.abs().max() > 1e-6, \
        "z has no randomness (z == mu): did you forget eps ~ N(0, I)? z = mu + eps * exp(0.5 * logvar)"
    z_again = tensor(out["z_again"], "reparameterize(mu, logvar)", mu.shape)
    assert not torch.equal(z, z_again), ("reparameterize returned the same z on two calls: draw fresh noise on "
                                         "every call (torch.randn_like(std)) and don't reseed inside it")
    eps = noise / torch.exp(0.5 * logvar)
    mean, std = eps.mean().item(), eps.std().item()
    if abs(mean) > 0.03 or abs(std - 1) > 0.03:
        column = logvar[0]  # (dims,): logvar is constant down each column
        spread = noise.std(dim=0)  # (dims,): the std z actually has in each column
        mistakes = {
            "are you passing log-variance where std is expected? z's spread matches |logvar|; "
            "std = exp(0.5 * logvar)": column.abs(),
            "are you passing the variance where std is expected? z's spread matches exp(logvar), "
            "not exp(0.5 * logvar)": column.exp(),
            "z's spread ignores logvar: multiply eps by std = exp(0.5 * logvar)": torch.ones_like(column),
            "z's spread matches exp(-0.5 * logvar): multiply eps by std = exp(0.5 * logvar), don't divide by it":
                torch.exp(-0.5 * column),
        }
        hint = next((m for m, s in mistakes.items() if (spread / s - 1).abs().median() < 0.1), "")
        if not hint and abs(mean - 0.5) < 0.05 and abs(std - 12 ** -0.5) < 0.05:
            hint = "eps looks uniform on [0, 1): draw it from N(0, I) with torch.randn_like(std), not torch.rand"
        raise AssertionError(hint or f"(z - mu) / exp(0.5 * logvar) should be N(0, 1) noise but has mean "
                                     f"{mean:.3f} and std {std:.3f}: z = mu + eps * exp(0.5 * logvar), "
                                     "eps = torch.randn_like(std)")
    assert out["mu_grad"] is not None and out["logvar_grad"] is not None, (
        "no gradient reaches mu and logvar through z: compute z = mu + eps * std (torch.normal(mu, std) and "
        "Normal(...).sample() cut the graph; rsample() keeps it)")
    mu_grad = tensor(out["mu_grad"], "dz/dmu", mu.shape)
    assert close(mu_grad, torch.ones_like(mu)), "dz/dmu should be 1 everywhere: z = mu + eps * std adds mu unchanged"
    logvar_grad = tensor(out["logvar_grad"], "dz/dlogvar", mu.shape)
    assert close(logvar_grad, 0.5 * noise, rtol=1e-3, atol=1e-5), (
        "dz/dlogvar should be 0.5 * eps * std: compute std = exp(0.5 * logvar) from logvar and keep eps independent "
        "of mu and logvar")


# --------------------------------------------------------------------------------------------------------------
# kl_divergence: KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dims, shape (B,)


def inputs_kl_divergence(generator):
    return {"mu": torch.randn(6, 5, generator=generator), "logvar": 0.8 * torch.randn(6, 5, generator=generator)}


def judge_kl_divergence(inputs, out):
    from solutions.vae import kl_divergence

    mu, logvar = inputs["mu"].double(), inputs["logvar"].double()
    batch, dims = mu.shape
    expected = kl_divergence(mu, logvar)  # (B,)
    got = out["kl"]
    if isinstance(got, torch.Tensor):
        assert tuple(got.shape) != (batch, dims), \
            "kl_divergence returned a (B, D) tensor: sum over the latent dimensions (dim=1), one KL per example"
        assert got.numel() != 1, ("kl_divergence returned a single number: return one KL per example, shape (B,); "
                                  "vae_loss takes the batch mean")
        assert tuple(got.shape) != (batch, 1), "kl_divergence returned shape (B, 1): sum over dim=1 without keepdim"
    got = tensor(got, "kl_divergence(mu, logvar)", (batch,))
    if not close(got, expected):
        formula = "KL = -0.5 * sum over latent dims of (1 + logvar - mu^2 - exp(logvar))"
        hint = diagnose(got, {
            f"KL is never negative: check the sign, {formula}": -expected,
            "kl_divergence averages over the latent dimensions: sum over them instead": expected / dims,
            f"kl_divergence is twice the KL: keep the factor 0.5, {formula}": 2 * expected,
            "kl_divergence uses exp(0.5 * logvar) where the variance exp(logvar) belongs":
                -0.5 * (1 + logvar - mu ** 2 - torch.exp(0.5 * logvar)).sum(1),
            f"kl_divergence leaves out mu^2: {formula}": -0.5 * (1 + logvar - logvar.exp()).sum(1),
        })
        if not hint and (got < 0).any():
            hint = f"KL is never negative, but kl_divergence returned {show(got)}: check the signs, {formula}"
        raise AssertionError(hint or f"kl_divergence(mu, logvar) = {show(got)}, expected {show(expected)}: {formula}")
    prior = tensor(out["kl_prior"], "kl_divergence(zeros, zeros)", (3,))
    assert close(prior, torch.zeros(3)), \
        f"kl_divergence(zeros, zeros) = {show(prior)}: the KL of N(0, I) from itself is 0"


# --------------------------------------------------------------------------------------------------------------
# vae_loss: (loss, recon, kl); recon = BCE summed over pixels, batch mean; kl = batch mean; loss = recon + beta * kl


def inputs_vae_loss(generator):
    shape = (4, 3, 8, 8)
    x = torch.rand(shape, generator=generator)
    where = torch.rand(shape, generator=generator)
    x[where < 0.1], x[where > 0.9] = 0.0, 1.0  # exact 0s and 1s, as in real images
    return {"x_hat": torch.sigmoid(torch.randn(shape, generator=generator)), "x": x,
            "mu": torch.randn(4, 6, generator=generator), "logvar": 0.5 * torch.randn(4, 6, generator=generator)}


def _loss_terms(value, what):
    return [number(v, f"{what}'s {name}") for v, name in zip(items(value, what, ("loss", "recon", "kl")),
                                                               ("loss", "recon", "kl"))]


def judge_vae_loss(inputs, out):
    from solutions.vae import vae_loss

    x_hat, x, mu, logvar = (inputs[k].double() for k in ("x_hat", "x", "mu", "logvar"))
    batch, pixels, dims = x.shape[0], x[0].numel(), mu.shape[1]
    _, recon_ref, kl_ref = (t.item() for t in vae_loss(x_hat, x, mu, logvar))
    loss, recon, kl = _loss_terms(out["default"], "vae_loss(x_hat, x, mu, logvar)")
    if not near(recon, recon_ref):
        squared = ((x_hat - x) ** 2).sum().item() / batch
        mistakes = {
            "recon is averaged over pixels: sum the BCE over the C*H*W values of each image, then average over "
            "the batch (reduction='sum', divided by the batch size)": recon_ref / pixels,
            "recon is summed over the batch: divide the summed BCE by the batch size": recon_ref * batch,
            "recon looks like squared error: the contract uses binary cross-entropy, "
            "F.binary_cross_entropy(x_hat, x, reduction='sum') / batch_size": squared,
            "recon looks like a mean squared error: the contract uses binary cross-entropy summed over pixels, "
            "averaged over the batch": squared / pixels,
            "recon looks like BCE(x, x_hat): the reconstruction x_hat comes first, the target x second":
                F.binary_cross_entropy(x, x_hat, reduction="sum").item() / batch,
            "recon has the wrong sign: BCE = -[x log x_hat + (1 - x) log(1 - x_hat)]": -recon_ref,
        }
        hint = next((m for m, v in mistakes.items() if near(recon, v, rtol=1e-3)), "")
        raise AssertionError(hint or f"recon = {recon:.4f}, expected {recon_ref:.4f}: binary cross-entropy summed over "
                                     "the pixel values of each image, averaged over the batch")
    own_kl = out["own_kl"]
    accepted = [kl_ref] + ([own_kl.double().mean().item()] if isinstance(own_kl, torch.Tensor)
                           and own_kl.is_floating_point() and own_kl.numel() else [])
    if not any(near(kl, k) for k in accepted):
        mistakes = {"kl is summed over the batch: take the batch mean, kl_divergence(mu, logvar).mean()":
                        kl_ref * batch,
                    "kl is averaged over latent dimensions too: sum over them, then average over the batch":
                        kl_ref / dims}
        hint = next((m for m, v in mistakes.items() if near(kl, v, rtol=1e-3)), "")
        raise AssertionError(hint or f"kl = {kl:.4f}, expected {kl_ref:.4f}: the batch mean of "
                                     "kl_divergence(mu, logvar)")
    assert near(loss, recon + kl), \
        f"loss = {loss:.4f} but recon + kl = {recon + kl:.4f}: loss = recon + beta * kl, beta = 1 by default"
    for key, beta in (("half", 0.5), ("four", 4.0)):
        loss_b, recon_b, kl_b = _loss_terms(out[key], f"vae_loss(..., beta={beta})")
        assert near(recon_b, recon) and near(kl_b, kl), \
            "beta must weight the loss only: recon and kl are returned unweighted, whatever beta is"
        assert not near(loss_b, recon + kl) or near(beta * kl, kl), "beta is ignored: loss = recon + beta * kl"
        assert near(loss_b, recon + beta * kl), \
            f"vae_loss(..., beta={beta}) returned loss {loss_b:.4f}, but recon + beta * kl = {recon + beta * kl:.4f}"
    assert out["x_hat_grad"] is not None, \
        "the loss is not connected to x_hat: return tensors (no .item() or .detach() inside vae_loss)"
    reference_x_hat = x_hat.clone().requires_grad_(True)
    vae_loss(reference_x_hat, x, mu, logvar)[0].backward()
    assert close(tensor(out["x_hat_grad"], "d loss / d x_hat", x.shape), reference_x_hat.grad, rtol=1e-3, atol=1e-6), \
        "the gradient of the loss with respect to x_hat is wrong: compute the loss from x_hat with torch operations"


# --------------------------------------------------------------------------------------------------------------
# ConvVAE: shapes at 32 and 64, the latent_dim attribute, decode in [0, 1]

SHAPE_CONFIGS = ((16, 3, 32), (16, 3, 64), (8, 1, 32))  # (latent_dim, in_channels, image_size)


def inputs_conv_vae_shapes(generator):
    cases = [{"config": list(config), "x": torch.rand(2, config[1], config[2], config[2], generator=generator),
              "z": 3 * torch.randn(2, config[0], generator=generator)} for config in SHAPE_CONFIGS]
    return {"cases": cases, "x_default": torch.rand(2, 3, 32, 32, generator=generator)}


def _check_latent_dim(value, latent_dim, name):
    assert value is not None, f"{name} has no attribute latent_dim: store it in __init__ (self.latent_dim = latent_dim)"
    assert isinstance(value, int) and value == latent_dim, \
        f"{name}.latent_dim is {describe(value)}, expected {latent_dim}"


def _check_code(value, what, latent_dim):
    mu, logvar = items(value, what, ("mu", "logvar"))
    tensor(mu, f"{what}'s mu", (2, latent_dim))
    tensor(logvar, f"{what}'s logvar", (2, latent_dim))


def _check_image(value, what, shape):
    image = tensor(value, what, shape)
    low, high = image.min().item(), image.max().item()
    assert low >= 0 and high <= 1, (f"{what} has values in [{low:.3g}, {high:.3g}], outside [0, 1]: "
                                    "end the decoder with torch.sigmoid")


def judge_conv_vae_shapes(inputs, out):
    for case, result in zip(inputs["cases"], out["cases"]):
        latent_dim, in_channels, image_size = case["config"]
        name = constructor_label(*case["config"])
        _check_latent_dim(result["latent_dim"], latent_dim, name)
        _check_code(result["encoded"], f"{name}.encode(x)", latent_dim)
        image_shape = (2, in_channels, image_size, image_size)
        decoded = result["decoded"]
        if isinstance(decoded, torch.Tensor) and decoded.dim() == 4 and tuple(decoded.shape) != image_shape:
            raise AssertionError(f"{name}.decode(z) returned shape {tuple(decoded.shape)}, expected {image_shape}: "
                                 f"the decoder must upsample back to image_size x image_size")
        _check_image(decoded, f"{name}.decode(z)", image_shape)
        x_hat, mu, logvar = items(result["forward"], f"{name}(x)", ("x_hat", "mu", "logvar"))
        _check_image(x_hat, f"{name}(x)'s x_hat", image_shape)
        _check_code((mu, logvar), f"{name}(x)", latent_dim)
    _check_latent_dim(out["default"]["latent_dim"], 128, "ConvVAE()")
    _check_code(out["default"]["encoded"], "ConvVAE().encode(x) on 3x32x32 images", 128)


# --------------------------------------------------------------------------------------------------------------
# ConvVAE: convolutions in encoder and decoder; forward returns (x_hat, mu, logvar) with a reparameterized sample


def inputs_conv_vae_layers(generator):
    return {"x": torch.rand(16, 3, 32, 32, generator=generator), "z": torch.randn(2, 16, generator=generator)}


def judge_conv_vae_layers(inputs, out):
    name = constructor_label(16, 3, 32)
    assert "Conv2d" in out["encode_layers"], (f"{name}.encode ran no nn.Conv2d: a convolutional encoder is built from "
                                              "nn.Conv2d layers (a fully connected one is the FCVAE)")
    assert {"Conv2d", "ConvTranspose2d"} & set(out["decode_layers"]), (
        f"{name}.decode ran no nn.ConvTranspose2d or nn.Conv2d: upsample with transposed convolutions "
        "(or nn.Upsample + nn.Conv2d)")
    x = inputs["x"]
    encoded = items(out["encoded"], f"{name}.encode(x)", ("mu", "logvar"))
    mu, logvar = (tensor(t, f"{name}.encode(x)", (16, 16)) for t in encoded)
    x_hat, mu_f, logvar_f = items(out["eval_forward"], f"{name}(x)", ("x_hat", "mu", "logvar"))
    tensor(x_hat, f"{name}(x)'s first output x_hat", x.shape)
    assert (close(tensor(mu_f, f"{name}(x)'s mu", mu.shape), mu)
            and close(tensor(logvar_f, f"{name}(x)'s logvar", mu.shape), logvar)), \
        f"{name}(x) must return (x_hat, mu, logvar) with mu, logvar = self.encode(x) (compared in eval mode)"
    first = items(out["first"], f"{name}(x)", ("x_hat", "mu", "logvar"))
    x_hat_1, mu_1, logvar_1 = (tensor(t, f"{name}(x)") for t in first)
    finite(x_hat_1, f"{name}(x)'s x_hat in train mode")
    decoder_input = out["decoder_input"]
    if decoder_input is None:  # decode transforms z before any module: tell samples from mu by their outputs
        x_hat_2 = tensor(items(out["second"], f"{name}(x)", ("x_hat", "mu", "logvar"))[0], f"{name}(x)")
        assert not close(x_hat_1, x_hat_2, rtol=0, atol=1e-7), (
            f"{name}(x) returned the same x_hat twice in train mode: decode a sample z = reparameterize(mu, logvar), "
            "not mu itself")
        return
    z = tensor(decoder_input, f"the z that {name}(x) decodes")
    assert z.numel() == mu_1.numel(), (f"{name}(x) hands its decoder a tensor of shape {tuple(z.shape)}, not a code "
                                       f"like mu {tuple(mu_1.shape)}: decode z = reparameterize(mu, logvar)")
    z = z.reshape(mu_1.shape)
    if any(isinstance(c["result"], torch.Tensor) and len(c["args"]) == 2 and close(c["result"].double(), z)
           and close(tensor(c["args"][0], "mu"), mu_1) for c in out["sampled"]):
        return  # forward decodes the student's own reparameterize(mu, logvar), which has a check of its own
    assert not close(z, mu_1, rtol=0, atol=1e-7), \
        f"{name}(x) decodes mu itself in train mode: decode a sample z = reparameterize(mu, logvar)"
    eps = (z - mu_1) / torch.exp(0.5 * logvar_1)
    assert torch.isfinite(eps).all() and abs(eps.mean().item()) < 0.35 and 0.7 < eps.std().item() < 1.35, (
        f"the z that {name}(x) hands its decoder is not mu + eps * exp(0.5 * logvar) with eps ~ N(0, I) "
        f"((z - mu) / std has mean {eps.mean().item():.2f}, std {eps.std().item():.2f}): decode "
        "z = reparameterize(mu, logvar)")


# --------------------------------------------------------------------------------------------------------------
# train_vae: Adam(lr), vae_loss, (x, y) or bare batches, one mean loss per sample per epoch, learns

TRAIN_RUNS = ({"epochs": 2, "lr": 0.01, "pairs": True, "beta": None},
              {"epochs": 3, "lr": 0.03, "pairs": False, "beta": 0.5})


def inputs_train_vae(generator):
    return {"x": torch.rand(TRAIN_SAMPLES, 1, 4, 4, generator=generator), "y": torch.arange(TRAIN_SAMPLES),
            "model": {"latent_dim": 2, "image_shape": (1, 4, 4), "hidden": 8, "seed": 5}, "runs": list(TRAIN_RUNS)}


def _well_formed_loss_call(call_record) -> bool:
    args, result = call_record["args"], call_record["result"]
    return (len(args) > 1 and isinstance(args[1], torch.Tensor) and isinstance(result, (list, tuple)) and result
            and isinstance(result[0], (torch.Tensor, float)))


def _beta_of(call_record):
    """The beta a vae_loss call used (None when it was left at its default)."""
    beta = call_record["kwargs"].get("beta", call_record["args"][4] if len(call_record["args"]) > 4 else None)
    return None if beta is None else number(beta, "beta")


def _per_epoch(batches: list[tuple[int, float]], epochs: int) -> list[tuple[float, float]] | None:
    """(per-sample mean, mean of batch means) of each epoch from (batch size, batch-mean loss), in order."""
    summaries, epoch = [], []
    for size, loss in batches:
        epoch.append((size, loss))
        if sum(s for s, _ in epoch) == TRAIN_SAMPLES:
            summaries.append((sum(s * l for s, l in epoch) / TRAIN_SAMPLES, sum(l for _, l in epoch) / len(epoch)))
            epoch = []
    return summaries[:epochs] if len(summaries) >= epochs else None


def _check_adam(run, result, what):
    snapshots = [tensor(p, "the model's parameters").double() for p in result["parameters"]]
    start = snapshots[0]
    moved = next((s for s in snapshots[1:] if not torch.equal(s, start)), None)
    assert moved is not None, f"{what} never changed the model's parameters: call loss.backward() and optimizer.step()"
    step = (moved - start).abs()
    ratio = step[step > 1e-3 * run["lr"]] / run["lr"]
    adam_like = ((ratio > 0.9) & (ratio < 1.02)).double().mean().item() if ratio.numel() else 0.0
    if adam_like < 0.9:
        median = ratio.median().item() * run["lr"] if ratio.numel() else 0.0
        assert not near(median, 1e-3, rtol=0.1), (
            f"{what}: the first update moved the parameters by 0.001 (Adam's default lr), not lr={run['lr']}: "
            "pass lr on, torch.optim.Adam(model.parameters(), lr=lr)")
        raise AssertionError(f"{what}: the first update is not Adam's (which moves every parameter by about lr): "
                             "use torch.optim.Adam(model.parameters(), lr=lr)")


def judge_train_vae(inputs, out):
    from solutions.vae import vae_loss

    batches = math.ceil(TRAIN_SAMPLES / TRAIN_BATCH)
    for index, (run, result) in enumerate(zip(inputs["runs"], out["runs"])):
        what, epochs = train_call_label(run), run["epochs"]
        returned = result["returned"]
        assert isinstance(returned, (list, tuple)), \
            f"{what} returned {describe(returned)}; expected a list with one mean loss per epoch"
        assert len(returned) != epochs * batches, (
            f"{what} returned {len(returned)} values ({batches} batches x {epochs} epochs): return one mean loss "
            "per epoch, not one per batch")
        assert len(returned) == epochs, f"{what} returned {len(returned)} values; expected one per epoch ({epochs})"
        losses = [number(v, f"{what}'s epoch loss") for v in returned]
        assert result["forwards"], f"{what} never ran the model: compute x_hat, mu, logvar = model(x) for each batch"
        beta = 1.0 if run["beta"] is None else run["beta"]
        by_reference, by_beta_one = ([(int(x.shape[0]), vae_loss(x_hat.double(), x.double(), mu.double(),
                                                                 logvar.double(), b)[0].item())
                                      for x, x_hat, mu, logvar in result["forwards"]] for b in (beta, 1.0))
        by_student = [(int(c["args"][1].shape[0]), number(c["result"][0], "vae_loss's loss"))
                      for c in result["vae_loss_calls"] if _well_formed_loss_call(c)]
        candidates = [summary for summary in (_per_epoch(b, epochs) for b in (by_reference, by_student)) if summary]
        for epoch, loss in enumerate(losses):
            if any(near(loss, value, rtol=1e-3) for summary in candidates for value in summary[epoch]):
                continue
            ignored_beta = _per_epoch(by_beta_one, epochs)
            assert beta == 1.0 or not (ignored_beta and near(loss, ignored_beta[epoch][0], rtol=1e-3)), \
                f"{what} ignores beta: pass it on, vae_loss(x_hat, x, mu, logvar, beta)"
            reference = candidates[0][epoch][0] if candidates else float("nan")
            assert not near(loss, reference * TRAIN_SAMPLES, rtol=1e-3), \
                f"{what} returned the epoch's total loss: divide it by the number of samples"
            raise AssertionError(f"{what}: epoch {epoch + 1} returned {loss:.4f}, but the mean loss per sample over "
                                 f"its batches was {reference:.4f} (weight each batch's mean loss by its size)")
        assert beta == 1.0 or all(_beta_of(c) == beta for c in result["vae_loss_calls"]), \
            f"{what} ignores beta: pass it on, vae_loss(x_hat, x, mu, logvar, beta)"
        if index == 0:
            _check_adam(run, result, what)
        else:  # the longer run, with a larger lr
            assert losses[-1] < losses[0], (f"{what}: the loss went from {losses[0]:.4f} to {losses[-1]:.4f}; it "
                                            "should go down on this tiny problem (zero_grad, backward and step every "
                                            "batch?)")
