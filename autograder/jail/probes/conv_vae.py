"""Probes of conv_vae: the halves of its checks that call the student's code, inside the jail.

Each probe_NAME(student, inputs) calls the submission's functions on the grader's inputs and returns what came
back, deciding nothing; judge_NAME in autograder/checks/conv_vae.py judges it outside the jail.
"""
from __future__ import annotations

import torch
from torch import nn

from ..known_models import ProbeVAE
from ..probing import call


def warm_up():
    """Build an Adam optimizer once: the first one imports torch._dynamo (1-2 s), which must not count against
    train_vae's time limit."""
    torch.optim.Adam([nn.Parameter(torch.zeros(1))])


def probe_reparameterize(student, inputs):
    mu = inputs["mu"].clone().requires_grad_(True)
    logvar = inputs["logvar"].clone().requires_grad_(True)
    z = call("reparameterize(mu, logvar)", student.reparameterize, mu, logvar)
    if isinstance(z, torch.Tensor) and z.requires_grad:
        call("backpropagating through reparameterize", lambda: z.sum().backward())
    z_again = call("reparameterize(mu, logvar)", student.reparameterize, inputs["mu"], inputs["logvar"])
    return {"z": z, "z_again": z_again, "mu_grad": mu.grad, "logvar_grad": logvar.grad}


def probe_kl_divergence(student, inputs):
    zeros = torch.zeros(3, 4)
    return {"kl": call("kl_divergence(mu, logvar)", student.kl_divergence, inputs["mu"], inputs["logvar"]),
            "kl_prior": call("kl_divergence(zeros, zeros)", student.kl_divergence, zeros, zeros.clone())}


def probe_vae_loss(student, inputs):
    x_hat = inputs["x_hat"].clone().requires_grad_(True)
    args = (inputs["x"], inputs["mu"], inputs["logvar"])
    default = call("vae_loss(x_hat, x, mu, logvar)", student.vae_loss, x_hat, *args)
    loss = default[0] if isinstance(default, (tuple, list)) and default else None
    if isinstance(loss, torch.Tensor) and loss.requires_grad:
        call("backpropagating through vae_loss", loss.backward)
    outputs = {"default": default, "x_hat_grad": x_hat.grad}
    for key, beta in (("half", 0.5), ("four", 4.0)):
        outputs[key] = call(f"vae_loss(x_hat, x, mu, logvar, beta={beta})", student.vae_loss,
                            inputs["x_hat"], *args, beta=beta)
    try:  # the student's own KL: vae_loss may reuse it, right or wrong (its mistakes cost points in its own check)
        outputs["own_kl"] = student.kl_divergence(inputs["mu"], inputs["logvar"])
    except Exception:
        outputs["own_kl"] = None
    return outputs


def constructor_label(latent_dim, in_channels, image_size) -> str:
    return f"ConvVAE(latent_dim={latent_dim}, in_channels={in_channels}, image_size={image_size})"


def probe_conv_vae_shapes(student, inputs):
    results = []
    with torch.no_grad():
        for case in inputs["cases"]:
            latent_dim, in_channels, image_size = case["config"]
            name = constructor_label(*case["config"])
            model = call(name, student.ConvVAE, latent_dim=latent_dim, in_channels=in_channels, image_size=image_size)
            call(f"{name}.eval()", model.eval)
            results.append({"latent_dim": getattr(model, "latent_dim", None),
                            "encoded": call(f"{name}.encode(x)", model.encode, case["x"]),
                            "decoded": call(f"{name}.decode(z)", model.decode, case["z"]),
                            "forward": call(f"{name}(x)", model, case["x"])})
        model = call("ConvVAE()", student.ConvVAE)
        call("ConvVAE().eval()", model.eval)
        default = {"latent_dim": getattr(model, "latent_dim", None),
                   "encoded": call("ConvVAE().encode(x)", model.encode, inputs["x_default"])}
    return {"cases": results, "default": default}


def _layer_kind(module: nn.Module) -> str:
    for kind in (nn.Conv2d, nn.ConvTranspose2d, nn.Linear):
        if isinstance(module, kind):
            return kind.__name__
    return type(module).__name__


def _decoder_entry(entered: list, z: torch.Tensor):
    """The first module that decode(z) handed z itself to (reshaped at most): where the decoder network starts,
    whatever the student called it (self.decoder, self.fc_decode, ...). None when decode transforms z with plain
    tensor operations before any module."""
    return next((module for module, value in entered if isinstance(value, torch.Tensor)
                 and value.numel() == z.numel() and torch.equal(value.reshape(z.shape), z)), None)


def probe_conv_vae_layers(student, inputs):
    name = constructor_label(16, 3, 32)
    model = call(name, student.ConvVAE, latent_dim=16, in_channels=3, image_size=32)
    ran, entered = [], []  # layer kinds that ran; (module, its first input) as each module is entered
    for module in call(f"{name}.modules()", model.modules):
        module.register_forward_hook(lambda module, args, output: ran.append(_layer_kind(module)))
        module.register_forward_pre_hook(
            lambda module, args: entered.append((module, args[0].detach().clone() if args and isinstance(
                args[0], torch.Tensor) else None)))
    x = inputs["x"]
    with torch.no_grad():
        call(f"{name}.eval()", model.eval)
        encoded = call(f"{name}.encode(x)", model.encode, x)
        encode_layers, ran[:] = list(ran), []
        entered.clear()
        call(f"{name}.decode(z)", model.decode, inputs["z"])
        decode_layers = list(ran)
        entry = _decoder_entry(entered, inputs["z"])
        eval_forward = call(f"{name}(x) in eval mode", model, x)

        sampled = student.watch("reparameterize")  # when forward uses the student's own reparameterize
        call(f"{name}.train()", model.train)
        runs = []
        for seed in (1, 2):
            torch.manual_seed(seed)
            entered.clear()
            output = call(f"{name}(x) in train mode", model, x)
            decoder_input = next((value for module, value in entered if module is entry), None)
            runs.append((output, decoder_input))
        sampled = sampled[:1]
    return {"encode_layers": encode_layers, "decode_layers": decode_layers, "encoded": encoded,
            "eval_forward": eval_forward, "first": runs[0][0], "second": runs[1][0],
            "decoder_input": runs[0][1], "sampled": sampled}


TRAIN_SAMPLES, TRAIN_BATCH = 10, 4  # batches of 4, 4, 2: unequal, so per-sample and per-batch means differ


def train_call_label(run) -> str:
    loader = "(x, y) pairs" if run["pairs"] else "bare image batches"
    beta = f", beta={run['beta']}" if run["beta"] is not None else ""
    return f"train_vae(model, loader of {loader}, epochs={run['epochs']}, lr={run['lr']}{beta})"


def probe_train_vae(student, inputs):
    from torch.utils.data import DataLoader, TensorDataset

    seen = student.watch("vae_loss")  # any correct bookkeeping of the student's own vae_loss is accepted
    runs = []
    for run in inputs["runs"]:
        model = ProbeVAE(**inputs["model"])
        data = TensorDataset(inputs["x"], inputs["y"]) if run["pairs"] else inputs["x"]
        kwargs = {"epochs": run["epochs"], "lr": run["lr"]}
        if run["beta"] is not None:
            kwargs["beta"] = run["beta"]
        del seen[:]
        returned = call(train_call_label(run), student.train_vae, model, DataLoader(data, batch_size=TRAIN_BATCH), **kwargs)
        runs.append({"returned": returned, "forwards": model.log["forwards"], "parameters": model.log["parameters"],
                     "vae_loss_calls": list(seen)})
    return {"runs": runs}

