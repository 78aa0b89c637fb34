"""course_utils.plotting: grids, labelled rows, and book-sized PNGs."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from course_utils.plotting import (PADDING, PlottingError, grid_image, image_rows, save_figure,  # noqa: E402
                                   save_grid, show_grid)


def test_grid_image_layout():
    images = torch.rand(6, 3, 8, 8)
    grid = grid_image(images, nrow=3)
    assert grid.shape == (3, 2 * 8 + 3 * PADDING, 3 * 8 + 4 * PADDING)
    torch.testing.assert_close(grid[:, PADDING:PADDING + 8, PADDING:PADDING + 8], images[0])


def test_image_rows_labels_each_row_at_its_centre():
    rows = [torch.rand(4, 1, 10, 10), torch.rand(4, 1, 10, 10)]
    ax = image_rows(rows, ["first", "second"], col_labels=list("abcd"))
    assert [tick.get_text() for tick in ax.get_yticklabels()] == ["first", "second"]
    assert list(ax.get_yticks()) == [PADDING + 5, PADDING + 10 + PADDING + 5]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == list("abcd")


@pytest.mark.parametrize("call", [
    lambda: image_rows([torch.rand(4, 3, 8, 8)], ["a", "b"]),
    lambda: image_rows([torch.rand(4, 3, 8, 8), torch.rand(3, 3, 8, 8)], ["a", "b"]),
    lambda: show_grid(torch.rand(3, 8, 8)),
    lambda: show_grid(torch.rand(2, 8, 8, 3)),
])
def test_bad_shapes_give_one_line_errors(call):
    with pytest.raises(PlottingError) as info:
        call()
    assert "\n" not in str(info.value)


def test_save_grid_and_show_grid(tmp_path):
    path = save_grid(torch.rand(4, 3, 8, 8), tmp_path / "grid.png", nrow=2)
    with Image.open(path) as image:
        assert image.size == (2 * 8 + 3 * PADDING, 2 * 8 + 3 * PADDING)
    ax = show_grid(torch.rand(4, 1, 8, 8), nrow=4, title="samples")
    assert ax.get_title() == "samples"


def test_save_figure_keeps_photo_heavy_figures_small(tmp_path):
    generator = torch.Generator().manual_seed(0)
    ax = show_grid(torch.rand(64, 3, 32, 32, generator=generator), nrow=8)  # noise: the worst case for PNG
    ax.figure.set_size_inches(6, 6)
    path = save_figure(ax.figure, tmp_path / "noise.png", max_bytes=200_000)
    assert path.stat().st_size < 200_000
    with Image.open(path) as image:
        assert image.mode == "P", "an oversized figure is re-encoded with a palette"
