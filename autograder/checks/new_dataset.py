"""Hidden checks of new_dataset: the CelebA transform and exploring a trained model's latent space.

The contract is course_utils/data.py (celeba_transform) and solutions/explore.py. Each check is inputs_NAME /
probe_NAME / judge_NAME (autograder/checks/__init__.py).
"""
from __future__ import annotations

import torch

from autograder.judging import close, describe, finite, show, tensor
from autograder.jail.known_models import ProbeVAE
from autograder.jail.probes.new_dataset import NEAR_SCALE, SAMPLES, TEST_IMAGES, TRANSFORM_CALLS, TRAVERSALS


MODEL = {"latent_dim": 4, "image_shape": (1, 6, 6), "hidden": 8, "seed": 21}

# --------------------------------------------------------------------------------------------------------------
# celeba_transform: PIL image of any size -> float (3, S, S) in [0, 1], centred square crop, then resize

RED = 191  # the red channel is constant; green rises left to right and blue top to bottom, from 0 to 255


def _ramp_image(width, height) -> torch.Tensor:
    """(H, W, 3) uint8: from the output's green and blue values a judge can tell where the crop came from."""
    across = torch.linspace(0, 255, width).round().expand(height, width)
    down = torch.linspace(0, 255, height).round()[:, None].expand(height, width)
    return torch.stack([torch.full((height, width), float(RED)), across, down], dim=-1).to(torch.uint8)


def inputs_celeba_transform(generator):
    return {name: _ramp_image(*size) for name, size in TEST_IMAGES.items()}


def judge_celeba_transform(inputs, out):
    assert not str(out["defined_in"]).startswith(("course_utils", "solutions")), (
        f"celeba_transform is the course's own ({out['defined_in']}.celeba_transform): write your own")
    for label, _, size, names in TRANSFORM_CALLS:
        for name in names:
            width, height = TEST_IMAGES[name]
            what = f"{label} applied to a {width}x{height} PIL image"
            got = out[f"{label} {name}"]
            assert isinstance(got, torch.Tensor), (f"{what} returned {describe(got)}; expected a float tensor "
                                                   "(3, S, S): end with transforms.ToTensor()")
            assert got.is_floating_point(), (f"{what} returned a {got.dtype} tensor: convert to floats in [0, 1] "
                                              "(ToTensor, or ToDtype(torch.float32, scale=True))")
            got = finite(tensor(got, what, (3, size, size)), what)
            assert got.max() <= 1 + 1e-6, (f"{what} has values up to {got.max().item():.1f}: scale to [0, 1] "
                                           "(ToTensor and ToDtype(..., scale=True) divide by 255)")
            assert got.min() >= -1e-6, f"{what} has negative values: don't Normalize, the contract wants [0, 1]"
            red, across, down = got
            assert abs(red.mean().item() - RED / 255) < 0.02, f"{what} changed the colours: keep the RGB channels"
            # Green = column / (width - 1) and blue = row / (height - 1) in the original, so the output's mean
            # green/blue is where the crop's centre was, and std * sqrt(12) how wide/tall it was.
            side_x = across.std(unbiased=False).item() * 12 ** 0.5 * (width - 1)
            side_y = down.std(unbiased=False).item() * 12 ** 0.5 * (height - 1)
            assert abs(side_x / side_y - 1) < 0.06, (
                f"{what} squashes the image: the output shows {side_x:.0f}x{side_y:.0f} pixels of the original, not "
                "a square; crop a square around the centre first (CenterCrop), then Resize")
            assert abs(across.mean().item() - 0.5) < 0.03 and abs(down.mean().item() - 0.5) < 0.03, \
                f"{what} is not centred: crop the square from the middle of the image (CenterCrop)"
            assert min(side_x, side_y) > 0.55 * min(width, height), (
                f"{what} keeps only a {side_x:.0f}-pixel square of the {width}x{height} image: crop a square around "
                "the whole face (e.g. 148 of the 178 pixels of width), then Resize it to image_size")


# --------------------------------------------------------------------------------------------------------------
# sample_prior: decode z ~ N(0, temperature^2 I), randomness from the generator


def inputs_sample_prior(generator):
    return {"model": MODEL}


def _decoded_codes(model, draw, what, count):
    """The codes a function decoded, checking it returned exactly their decoding."""
    images = finite(tensor(draw["images"], what, (count, *model.image_shape)), what)
    assert draw["codes"] is not None, f"{what} never called model.decode: decode the codes with model.decode(z)"
    codes = tensor(draw["codes"], f"the codes {what} decoded", (count, model.latent_dim))
    assert close(images, model.decode(codes.float()).double()), f"{what} must return model.decode(z) of its codes"
    return codes


def _spread_hint(spread, expected, name, mistakes):
    """Assert the codes' std is `expected`, naming the mistake whose std it matches instead."""
    if abs(spread - expected) > 0.08 * expected:
        hint = next((m for m, v in mistakes.items() if abs(spread - v) < 0.08 * v), "")
        raise AssertionError(hint or f"the codes {name} decoded have std {spread:.3f}, expected {expected:.3f}")


def judge_sample_prior(inputs, out):
    model = ProbeVAE(**inputs["model"])
    what = f"sample_prior(model, {SAMPLES}, generator=g)"
    codes = _decoded_codes(model, out["first"], what, SAMPLES)
    assert abs(codes.mean().item()) < 0.12 and abs(codes.std().item() - 1) < 0.08, (
        f"the codes {what} decoded have mean {codes.mean().item():.3f} and std {codes.std().item():.3f}: "
        "draw z ~ N(0, I), torch.randn(n, model.latent_dim, generator=generator)")
    again = tensor(out["again"]["images"], what, (SAMPLES, *model.image_shape))
    assert torch.equal(again, tensor(out["first"]["images"], what)), (
        f"two calls of {what} with the same generator seed differ: draw all randomness from the generator, "
        "torch.randn(n, model.latent_dim, generator=generator)")
    cold = _decoded_codes(model, out["cold"], f"sample_prior(model, {SAMPLES}, temperature=0.5, generator=g)", SAMPLES)
    _spread_hint(cold.std().item(), 0.5, "sample_prior(..., temperature=0.5)", {
        "temperature is the standard deviation: z = temperature * eps (you used sqrt(temperature), treating it as "
        "the variance)": 0.5 ** 0.5,
        "z = temperature * eps, not temperature**2 * eps: temperature is the standard deviation": 0.25,
        "temperature is ignored: z = temperature * eps": 1.0})
    tensor(out["plain"], "sample_prior(model, 3)", (3, *model.image_shape))


# --------------------------------------------------------------------------------------------------------------
# sample_near: decode mu(x) + scale * eps

NEAR_MODEL = dict(MODEL, logvar_shift=-1.0)  # posterior std ~0.6: far from the scale used below


def inputs_sample_near(generator):
    return {"model": NEAR_MODEL, "x": torch.rand(*MODEL["image_shape"], generator=generator)}


def judge_sample_near(inputs, out):
    model = ProbeVAE(**inputs["model"])
    with torch.no_grad():
        mu, logvar = (t[0].double() for t in model.encode(inputs["x"][None]))  # (D,) each
    what = f"sample_near(model, x, {SAMPLES}, scale={NEAR_SCALE}, generator=g)"
    codes = _decoded_codes(model, out["first"], what, SAMPLES)
    centre = codes.mean(0)
    if not close(centre, mu, rtol=0, atol=0.05):
        hint = ("sample_near samples around 0, the prior's centre: start from the posterior mean, "
                "mu = model.encode(x)[0]") if close(centre, torch.zeros_like(mu), rtol=0, atol=0.05) else ""
        raise AssertionError(hint or f"the codes {what} decoded are centred at {show(centre)}, "
                                     f"not at mu(x) = {show(mu)}")
    _spread_hint((codes - mu).std().item(), NEAR_SCALE, what, {
        "sample_near ignores scale (the codes spread by the default 0.5): z = mu + scale * eps": 0.5,
        "sample_near ignores scale: z = mu + scale * eps": 1.0,
        "scale is a standard deviation: z = mu + scale * eps, not sqrt(scale) * eps": NEAR_SCALE ** 0.5,
        "scale is a standard deviation: z = mu + scale * eps, not scale**2 * eps": NEAR_SCALE ** 2,
        "sample_near starts from a sample of the posterior, not its mean: z = mu(x) + scale * eps":
            (logvar.exp().mean().item() + NEAR_SCALE ** 2) ** 0.5})
    again = tensor(out["again"]["images"], what, (SAMPLES, *model.image_shape))
    assert torch.equal(again, tensor(out["first"]["images"], what)), (
        f"two calls of {what} with the same generator seed differ: draw all randomness from the generator")
    tensor(out["plain"], "sample_near(model, x, 3)", (3, *model.image_shape))


# --------------------------------------------------------------------------------------------------------------
# traverse: decode copies of z with z[dim] set to each value; z unchanged


def inputs_traverse(generator):
    return {"model": MODEL, "z": torch.randn(MODEL["latent_dim"], generator=generator)}


def judge_traverse(inputs, out):
    model = ProbeVAE(**inputs["model"])
    z = inputs["z"]
    assert torch.equal(tensor(out["z_after"], "z"), z.double()), (
        "traverse changed z in place: set the coordinate on copies (z.clone(), or z.repeat(len(values), 1)) "
        "and leave z as it was")
    for (dim, values), result in zip(TRAVERSALS, out["traversals"]):
        what = f"traverse(model, z, {dim}, {values})"
        codes = z.repeat(len(values), 1)
        codes[:, dim] = torch.tensor(values)
        with torch.no_grad():
            expected = model.decode(codes).double()
        got = finite(tensor(result["images"], what, expected.shape), what)
        if close(got, expected):
            continue
        decoded = result["codes"]
        if isinstance(decoded, torch.Tensor) and decoded.shape == codes.shape:
            assert not (decoded[:, dim] == values[-1]).all(), (
                f"{what}: every decoded code has z[{dim}] = {values[-1]}, the last value: the rows share one tensor; "
                "set the value on a fresh copy for each row")
        raise AssertionError(f"{what}: row i should be decode(z with z[{dim}] = values[i]), all other coordinates "
                             "as in z")


# --------------------------------------------------------------------------------------------------------------
# attribute_direction: mean posterior mean of images with the attribute minus that of images without


def inputs_attribute_direction(generator):
    shape = MODEL["image_shape"]
    return {"model": MODEL, "x_with": 0.5 + 0.5 * torch.rand(6, *shape, generator=generator),
            "x_without": 0.5 * torch.rand(9, *shape, generator=generator)}


def judge_attribute_direction(inputs, out):
    from solutions.explore import attribute_direction

    model = ProbeVAE(**inputs["model"])
    x_with, x_without = inputs["x_with"], inputs["x_without"]
    dims = model.latent_dim
    what = "attribute_direction(model, x_with, x_without)"
    got = out["first"]
    if isinstance(got, torch.Tensor) and tuple(got.shape) == (1, dims):
        raise AssertionError(f"{what} returned shape (1, D): return one vector of shape (D,) (average with .mean(0))")
    got = finite(tensor(got, what, (dims,)), what)
    expected = attribute_direction(model, x_with, x_without).double()
    if close(got, expected):
        return
    with torch.no_grad():
        mu_with, mu_without = (model.encode(x)[0].double() for x in (x_with, x_without))
        of_mean_images = (model.encode(x_with.mean(0, keepdim=True))[0]
                          - model.encode(x_without.mean(0, keepdim=True))[0])
    assert not close(got, -expected), f"{what} points the wrong way: mean mu(x_with) - mean mu(x_without)"
    assert out["forward_calls"] == 0 and close(tensor(out["again"], what, (dims,)), got), (
        f"{what} uses random samples: use the posterior means, mu = model.encode(x)[0]")
    assert not close(got, of_mean_images[0].double()), (
        f"{what} encodes the average image: encode every image and average their means (the code of the average "
        "image is not the average code)")
    assert not close(got, mu_with.sum(0) - mu_without.sum(0)), \
        f"{what} sums the codes: average them, the two groups have different sizes"
    raise AssertionError(f"{what} = {show(got)}, expected {show(expected)}: mean mu(x_with) - mean mu(x_without)")
