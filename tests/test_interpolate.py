"""lerp, slerp and interpolate against hand computation (1e-6)."""
import math

import pytest
import torch

from solutions.interpolate import InterpolationError, interpolate, interpolation_grid, lerp, slerp
from linear_models import random_linear_vae

ATOL = 1e-6


def test_lerp_matches_hand_computation():
    z1, z2 = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    expected = torch.tensor([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0], [3.0, -1.0], [4.0, -2.0]])
    torch.testing.assert_close(lerp(z1, z2, 5), expected, atol=ATOL, rtol=0)


def test_lerp_accepts_row_vectors():
    z1, z2 = torch.randn(1, 4), torch.randn(1, 4)
    torch.testing.assert_close(lerp(z1, z2, 3), lerp(z1[0], z2[0], 3))


def test_slerp_quarter_circle():
    # e1 -> e2 at t = 1/2 is (cos 45deg, sin 45deg); at t = 1/3 it is (cos 30deg, sin 30deg).
    e1, e2 = torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64)
    path = slerp(e1, e2, 4)
    expected = torch.tensor([[math.cos(a), math.sin(a)] for a in (0, math.pi / 6, math.pi / 3, math.pi / 2)],
                            dtype=torch.float64)
    torch.testing.assert_close(path, expected, atol=ATOL, rtol=0)


def test_slerp_endpoints_and_great_circle_formula():
    generator = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(2, 8, generator=generator, dtype=torch.float64)
    path = slerp(z1, z2, 7)
    w = math.acos(float(z1 @ z2 / (z1.norm() * z2.norm())))
    for i, t in enumerate(torch.linspace(0, 1, 7).tolist()):
        expected = math.sin((1 - t) * w) / math.sin(w) * z1 + math.sin(t * w) / math.sin(w) * z2
        torch.testing.assert_close(path[i], expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(path[0], z1, atol=ATOL, rtol=0)
    torch.testing.assert_close(path[-1], z2, atol=ATOL, rtol=0)


def test_slerp_preserves_norm_of_equal_norm_endpoints():
    generator = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(16, generator=generator), torch.randn(16, generator=generator)
    z2 = z2 / z2.norm() * z1.norm()
    norms = slerp(z1, z2, 9).norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, float(z1.norm())), atol=1e-5, rtol=0)
    assert lerp(z1, z2, 9).norm(dim=1)[4] < z1.norm(), "lerp's midpoint should be shorter: that is slerp's point"


@pytest.mark.parametrize("z2_of", [
    lambda z: z.clone(),        # identical
    lambda z: 3.0 * z,          # parallel
    lambda z: -z,               # antipodal: no unique great circle; defined as lerp, through the origin
    lambda z: torch.zeros_like(z),  # zero vector: no direction
], ids=["identical", "parallel", "antipodal", "zero"])
def test_slerp_falls_back_to_lerp(z2_of):
    z1 = torch.tensor([0.3, -1.2, 2.0])
    z2 = z2_of(z1)
    path = slerp(z1, z2, 5)
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path, lerp(z1, z2, 5), atol=ATOL, rtol=0)


def test_slerp_both_zero_is_finite():
    assert torch.equal(slerp(torch.zeros(3), torch.zeros(3), 4), torch.zeros(4, 3))


@pytest.mark.parametrize("call", [
    lambda: lerp(torch.zeros(2, 3), torch.zeros(2, 3), 4),
    lambda: slerp(torch.zeros(3), torch.zeros(4), 4),
    lambda: lerp(torch.zeros(3), torch.zeros(3), 1),
])
def test_bad_input_gives_one_line_error(call):
    with pytest.raises(InterpolationError) as info:
        call()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("method,path", [("linear", lerp), ("slerp", slerp)])
def test_interpolate_linear_model_exact_rows(method, path):
    model = random_linear_vae(latent_dim=3, image_shape=(1, 2, 2), logvar=1.5)
    model.train()
    x1, x2 = torch.rand(1, 2, 2, dtype=torch.float64), torch.rand(1, 2, 2, dtype=torch.float64)
    frames = interpolate(model, x1, x2, steps=6, method=method)
    mu1, mu2 = model.A.detach() @ x1.flatten(), model.A.detach() @ x2.flatten()  # posterior means by hand
    expected = (path(mu1, mu2, 6) @ model.B.detach().T).view(6, 1, 2, 2)
    torch.testing.assert_close(frames, expected, atol=ATOL, rtol=0)
    assert not frames.requires_grad, "interpolate should run under torch.no_grad()"
    assert model.training, "interpolate must restore the model's training mode"


def test_interpolate_unknown_method_and_batched_image():
    model = random_linear_vae()
    x = torch.rand(1, 2, 2, dtype=torch.float64)
    with pytest.raises(InterpolationError, match="method"):
        interpolate(model, x, x, method="cubic")
    with pytest.raises(InterpolationError, match=r"\(C, H, W\)"):
        interpolate(model, x[None], x[None])


def test_interpolation_grid_stacks_rows():
    model = random_linear_vae()
    pairs = [(torch.rand(1, 2, 2, dtype=torch.float64), torch.rand(1, 2, 2, dtype=torch.float64)) for _ in range(3)]
    grid = interpolation_grid(model, pairs, steps=4, method="slerp")
    assert grid.shape == (12, 1, 2, 2)
    torch.testing.assert_close(grid[4:8], interpolate(model, *pairs[1], steps=4, method="slerp"))
