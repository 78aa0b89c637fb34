"""Hidden checks of interpolation: lerp, slerp and interpolate between two images' codes.

The contract is solutions/interpolate.py. Each check is inputs_NAME / probe_NAME / judge_NAME
(autograder/checks/__init__.py).
"""
from __future__ import annotations

import torch

from autograder.judging import close, finite, show, tensor
from autograder.jail.known_models import ProbeVAE
from autograder.jail.probes.interpolation import INTERPOLATE_CALLS, LERP_STEPS, SLERP_CASES, interpolate_call_label

LATENT_DIM = 6

# --------------------------------------------------------------------------------------------------------------
# lerp: (steps, D), rows z1 ... z2, evenly spaced


def inputs_lerp(generator):
    return {"z1": 1.5 * torch.randn(LATENT_DIM, generator=generator),
            "z2": 1.5 * torch.randn(LATENT_DIM, generator=generator)}


def judge_lerp(inputs, out):
    from solutions.interpolate import lerp

    z1, z2 = inputs["z1"].double(), inputs["z2"].double()
    for steps, got in zip(LERP_STEPS, out["paths"]):
        what = f"lerp(z1, z2, {steps})"
        if isinstance(got, torch.Tensor) and tuple(got.shape) == (LATENT_DIM, steps):
            raise AssertionError(f"{what} returned shape (D, steps): one row per step, shape (steps, D)")
        got = finite(tensor(got, what, (steps, LATENT_DIM)), what)
        if close(got, lerp(z1, z2, steps)):
            continue
        assert close(got[0], z1), f"{what}: the first row must be z1 (t = 0)"
        stops_short = z1 + (torch.arange(steps, dtype=torch.float64) / steps)[:, None] * (z2 - z1)
        assert not close(got, stops_short), (f"{what}: the last row is not z2: include both ends, t = "
                                             "torch.linspace(0, 1, steps) (arange(steps) / steps stops short of 1)")
        assert close(got[-1], z2), f"{what}: the last row must be z2 (t = 1)"
        raise AssertionError(f"{what}: the rows are not evenly spaced on the line from z1 to z2: "
                             "z(t) = (1 - t) z1 + t z2 with t = torch.linspace(0, 1, steps)")
    assert torch.equal(out["z1_after"], inputs["z1"]) and torch.equal(out["z2_after"], inputs["z2"]), \
        "lerp changed z1 or z2 in place: compute new tensors and leave the inputs alone"


# --------------------------------------------------------------------------------------------------------------
# slerp: great circle, endpoints exact, lerp for (nearly) parallel vectors, never NaN

PARALLEL = ("same", "parallel", "nearly")


def inputs_slerp(generator):
    def vector(norm):
        v = torch.randn(8, generator=generator)
        return norm * v / v.norm()

    a, axes = vector(3.0), 2 * torch.eye(8)
    pairs = {"equal": (a, vector(3.0)), "orthogonal": (axes[0], axes[1]), "unequal": (vector(1.5), vector(4.0)),
             "same": (a, a.clone()), "parallel": (a, 2.5 * a),
             "nearly": (a, a + 1e-5 * torch.randn(8, generator=generator))}
    return {key: {"z1": z1, "z2": z2, "steps": SLERP_CASES[key][1]} for key, (z1, z2) in pairs.items()}


def _is_own_lerp(got, calls) -> bool:
    """Is the path what the student's own lerp returned inside slerp?"""
    return any(isinstance(c["result"], torch.Tensor) and close(c["result"].double(), got) for c in calls)


def judge_slerp(inputs, out):
    from solutions.interpolate import lerp, slerp

    for key, case in inputs.items():
        z1, z2, steps = case["z1"].double(), case["z2"].double(), case["steps"]
        what = f"slerp(z1, z2, {steps}) with {SLERP_CASES[key][0]}"
        path = out[key]["path"]
        if key in PARALLEL and isinstance(path, torch.Tensor) and _is_own_lerp(path.double(), out[key]["lerp_calls"]):
            continue
        got = tensor(path, what, (steps, z1.numel()))
        assert key not in PARALLEL or torch.isfinite(got).all(), (
            f"{what} returned NaN: parallel vectors have angle 0 and sin(0) = 0; fall back to lerp when sin(omega) "
            "is tiny, and clamp the cosine to [-1, 1] before acos")
        finite(got, what)
        assert close(got[0], z1, atol=1e-4) and close(got[-1], z2, atol=1e-4), \
            f"{what}: the first row must be z1 and the last z2 (don't normalize them)"
        if key in PARALLEL:
            assert close(got, lerp(z1, z2, steps), rtol=1e-3, atol=1e-3), \
                f"{what} should be the straight line (lerp): parallel vectors have no unique great circle"
        elif key == "unequal":  # conventions differ on how the norm changes along the way; all stay in the plane
            basis = torch.linalg.qr(torch.stack([z1, z2], dim=1)).Q  # (D, 2)
            assert close(got @ basis @ basis.T, got, atol=1e-4), f"{what}: every row must be a combination of z1 and z2"
        elif not close(got, slerp(z1, z2, steps), atol=1e-4):
            middle = got[steps // 2].norm().item()
            assert not close(got, lerp(z1, z2, steps), atol=1e-4), (
                f"{what} follows the straight line: its middle row has norm {middle:.2f}, while z1 and z2 have "
                f"{z1.norm().item():.2f}; slerp follows the great circle, sin((1 - t) w) / sin(w) z1 + sin(t w) / "
                "sin(w) z2")
            raise AssertionError(f"{what}: row 1 is {show(got[1])}, expected {show(slerp(z1, z2, steps)[1])}: "
                                 "z(t) = sin((1 - t) w) / sin(w) z1 + sin(t w) / sin(w) z2, "
                                 "cos(w) = z1.z2 / (|z1| |z2|)")


# --------------------------------------------------------------------------------------------------------------
# interpolate: decode a lerp/slerp path between the posterior means of two images

INTERPOLATE_MODEL = {"latent_dim": 4, "image_shape": (3, 8, 8), "hidden": 16, "seed": 11}


def inputs_interpolate(generator):
    return {"model": INTERPOLATE_MODEL, "x1": torch.rand(3, 8, 8, generator=generator),
            "x2": torch.rand(3, 8, 8, generator=generator)}


def _decodes_own_path(model, got, calls, mu1, mu2, steps) -> bool:
    """Did interpolate decode exactly what the student's own lerp/slerp returned for (mu(x1), mu(x2), steps)?"""
    for record in calls:
        args, path = record["args"], record["result"]
        if (len(args) == 3 and all(isinstance(a, torch.Tensor) for a in args[:2]) and args[2] == steps
                and close(args[0].flatten(), mu1) and close(args[1].flatten(), mu2)
                and isinstance(path, torch.Tensor) and path.shape == (steps, mu1.numel())):
            with torch.no_grad():
                return close(got, model.decode(path.float()).double())
    return False


def judge_interpolate(inputs, out):
    from solutions.interpolate import interpolate

    model = ProbeVAE(**inputs["model"])
    x1, x2 = inputs["x1"], inputs["x2"]
    with torch.no_grad():
        mu1, mu2 = model.encode(torch.stack([x1, x2]))[0].double()
    for key, (kwargs, path_function) in INTERPOLATE_CALLS.items():
        what = interpolate_call_label(kwargs)
        expected = interpolate(model, x1, x2, **kwargs).double()
        got = finite(tensor(out["images"][key], what, expected.shape), what)
        steps = expected.shape[0]
        if close(got, expected) or _decodes_own_path(model, got, out["paths"][key][path_function], mu1, mu2, steps):
            continue
        t = torch.linspace(0, 1, steps, dtype=torch.float64)[:, None, None, None]
        assert not close(got, (1 - t) * x1.double() + t * x2.double()), (
            f"{what} blends the pixels: interpolate in latent space, i.e. encode both images, interpolate between "
            "their means mu, decode")
        assert out["forward_calls"] == 0, (f"{what} runs model(x), which decodes random samples: use the posterior "
                                           "means, mu = model.encode(x)[0], so the path is deterministic")
        decoded = out["paths"][key]["decoded"]
        assert not isinstance(decoded, torch.Tensor) or decoded.dim() != 2 or close(decoded[0].double(), mu1), (
            f"{what}: the path must start at mu(x1), the posterior mean (model.encode(x1)[0]), not at a sample")
        if key == "slerp":
            linear = interpolate(model, x1, x2, steps=steps).double()
            assert not close(got, linear), f"{what} ignores method='slerp': use slerp on the codes for it"
        raise AssertionError(f"{what}: the rows are not decode(path between mu(x1) and mu(x2)); the first row should "
                             f"be decode(mu(x1)) = {show(expected[0])}, got {show(got[0])}")
