"""Image grids for notebooks and the book: thin wrappers over torchvision's make_grid/save_image and matplotlib.

    show_grid(images, nrow=8, title=None)          # a batch (B, C, H, W) in [0, 1] as one grid
    image_rows([originals, recons], ["input", "reconstruction"])   # labelled rows, e.g. for comparisons
    save_grid(images, "samples.png", nrow=8)       # straight to a PNG file, no matplotlib
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import torch
from PIL import Image
from torchvision.utils import make_grid, save_image

PADDING = 2  # pixels between images in a grid
PAD_VALUE = 1.0  # white gaps read better on a book page than black ones


class PlottingError(ValueError):
    """Images in a shape the plotting helpers cannot draw (one-line message saying what to fix)."""


def _check_images(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise PlottingError(f"{name} must be a batch of images (B, C, H, W), got {shape}; add [None] for one image")
    if images.shape[1] not in (1, 3):
        raise PlottingError(f"{name} must have 1 or 3 channels in dim 1, got {images.shape[1]}; "
                            "are the images channels-last (B, H, W, C)? use .permute(0, 3, 1, 2)")
    return images.detach().float().cpu().clamp(0, 1)


def grid_image(images: torch.Tensor, nrow: int = 8) -> torch.Tensor:
    """One (3, H', W') image with the batch laid out nrow per row, white gaps between images."""
    return make_grid(_check_images(images), nrow=nrow, padding=PADDING, pad_value=PAD_VALUE)


def show_grid(images: torch.Tensor, nrow: int = 8, title: str | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """Draw a batch of images (B, C, H, W) in [0, 1] as a grid with nrow images per row.

    Inputs:  ax - the matplotlib axes to draw into (a new figure when None); title - shown above.
    Outputs: the axes, for further decoration.
    """
    if ax is None:
        columns = min(nrow, images.shape[0])
        rows = -(-images.shape[0] // nrow)
        _, ax = plt.subplots(figsize=(max(2.0, 0.8 * columns), max(1.0, 0.8 * rows) + (0.3 if title else 0)))
    ax.imshow(grid_image(images, nrow).permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def save_grid(images: torch.Tensor, path: str | Path, nrow: int = 8) -> Path:
    """Write a batch (B, C, H, W) in [0, 1] as one grid PNG (pixel-exact, no matplotlib); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(_check_images(images), path, nrow=nrow, padding=PADDING, pad_value=PAD_VALUE)
    return path


def image_rows(rows: Sequence[torch.Tensor], row_labels: Sequence[str], col_labels: Sequence[str] | None = None,
               title: str | None = None, ax: plt.Axes | None = None, image_inches: float = 0.6) -> plt.Axes:
    """Draw several equally long rows of images, each labelled on the left (and optionally each column on top).

    Inputs:  rows - list of (N, C, H, W) batches, all with the same N, C, H, W; row_labels - one per row;
             col_labels - N labels or None; ax - axes to draw into (a new figure sized to the grid when None);
             image_inches - display size of one image when a new figure is made.
    Outputs: the axes.
    """
    if len(rows) == 0 or len(rows) != len(row_labels):
        raise PlottingError(f"need one label per row, got {len(rows)} rows and {len(row_labels)} labels")
    rows = [_check_images(row, f"rows[{i}]") for i, row in enumerate(rows)]
    if len({row.shape for row in rows}) != 1:
        shapes = sorted({tuple(row.shape) for row in rows})
        raise PlottingError(f"every row needs the same shape (N, C, H, W), got {shapes}")
    count, channels, height, width = rows[0].shape
    if col_labels is not None and len(col_labels) != count:
        raise PlottingError(f"need one column label per image in a row, got {len(col_labels)} for {count} images")
    if channels == 1:  # make_grid turns grey into RGB; keep rows comparable when mixing
        rows = [row.expand(-1, 3, -1, -1) for row in rows]
    if ax is None:
        label_inches = 0.08 * max(len(label) for label in row_labels) + 0.2
        _, ax = plt.subplots(figsize=(count * image_inches + label_inches,
                                      len(rows) * image_inches + (0.35 if title else 0) + (0.25 if col_labels else 0)))
    ax.imshow(grid_image(torch.cat(rows), nrow=count).permute(1, 2, 0).numpy(), interpolation="nearest")
    # Image i of a grid starts at PADDING + i * (size + PADDING); put each tick at an image's centre.
    ax.set_yticks([PADDING + r * (height + PADDING) + height / 2 for r in range(len(rows))], list(row_labels))
    if col_labels is not None:
        ax.set_xticks([PADDING + c * (width + PADDING) + width / 2 for c in range(count)], list(col_labels))
        ax.xaxis.tick_top()
    else:
        ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title)
    return ax


BOOK_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
}


def book_style():
    """Matplotlib settings shared by every figure of the book (use as `with book_style(): ...`)."""
    return plt.rc_context(BOOK_STYLE)


def save_figure(fig: plt.Figure, path: str | Path, max_bytes: int = 250_000) -> Path:
    """Save a matplotlib figure as PNG in the book style (tight bounding box) and close it; returns the path.

    Photos compress poorly in PNG (~1.3 bytes per pixel), so a figure with many image tiles can weigh megabytes.
    When the file would exceed max_bytes it is re-encoded with a 256-colour palette (median cut, Floyd-Steinberg
    dithering): about a third of the size and visually the same at book-page size.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with book_style():
        fig.savefig(buffer, format="png")
    plt.close(fig)
    if buffer.tell() > max_bytes:
        buffer.seek(0)
        with Image.open(buffer) as image:
            palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                    dither=Image.Dither.FLOYDSTEINBERG)
        buffer = io.BytesIO()
        palette.save(buffer, format="PNG", optimize=True)
    path.write_bytes(buffer.getvalue())
    return path
