"""Text shared by several notebooks: the setup lines, the stand-in data for grading, training with progress bars.

Written once here, so every notebook that trains does it the same way.
"""
from autograder.registry import max_points

SETUP_CODE = '''
# nbgrader sets NBGRADER_EXECUTION while it grades: the notebook then trains a few steps on stand-in data.
AUTOGRADING = "NBGRADER_EXECUTION" in os.environ
# A warning goes to stderr, and nbgrader scores a test cell that wrote to stderr as failed.
warnings.simplefilter("ignore")
# The datasets live in the course folder's data/ (one copy for every assignment); set VAE_DATA_ROOT to move it.
DATA_ROOT = Path(os.environ.get("VAE_DATA_ROOT", "../data"))
device = default_device()  # CUDA when there is a GPU, else the CPU
seed_everything(0)
print(f"torch {torch.__version__} on {device}" + (" (autograding: stand-in data, a few steps)" if AUTOGRADING else ""))
'''

SETUP_IMPORTS = '''
import os
import warnings
from pathlib import Path

import torch

from course_utils import default_device, seed_everything
'''

TRAINING_IMPORTS = '''
from tqdm import tqdm

from course_utils.data import CachedSplit, InMemoryLoader, load_cached
'''

DATA_IMPORTS = '''
from course_utils.data import CachedSplit, load_cached
'''

# Stand-in data for grading runs (read-only cell of every notebook that reads a dataset).
STAND_IN = '''
def stand_in_split(n: int, image_size: int, targets: torch.Tensor, classes=(), attr_names=(), seed: int = 0):
    """n smooth random colour pictures (coarse noise, upsampled) standing in for a dataset split while grading."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=generator)
    images = torch.nn.functional.interpolate(coarse, size=image_size, mode="bilinear", align_corners=False)
    return CachedSplit("stand-in", "test", (images * 255).round().to(torch.uint8), targets, list(classes),
                       list(attr_names))
'''

# The training helpers of conv_vae and new_dataset (read-only cell).
TRAINING_HELPERS = STAND_IN + '''

class EpochProgress:
    """Wraps a loader so that every pass over it (one epoch of train_vae) draws its own progress bar."""

    def __init__(self, loader, description: str):
        self.loader, self.description, self.epoch = loader, description, 0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        self.epoch += 1
        return iter(tqdm(self.loader, desc=f"{self.description}, epoch {self.epoch}", disable=AUTOGRADING))


def train_or_load(model, loader, checkpoint: Path, description: str, epochs: int) -> list[float]:
    """Train `model` with your train_vae and save it to `checkpoint` (your submission includes that file).

    While grading, your submitted checkpoint is loaded instead, so the figures below show your trained model;
    without one, grading trains for a few steps on stand-in data. Returns train_vae's history ([] when loaded).
    """
    if AUTOGRADING and checkpoint.exists():
        model.load_state_dict(torch.load(checkpoint, map_location=device))
        return []
    history = train_vae(model, EpochProgress(loader, description), epochs=epochs, device=device)
    if not AUTOGRADING:
        torch.save(model.state_dict(), checkpoint)
    return history
'''

# One line, so that it can be put into an indented Markdown template.
STDERR_NOTE = ("A test cell that writes to **stderr** (a warning, a progress bar) counts as failed under nbgrader: "
               "no `tqdm` and no warnings in the functions you write (the training cells show progress bars for you).")


def points(assignment: str, *checks: str) -> str:
    """'n points' for the hidden checks of an exercise, for the headings."""
    total = sum(max_points(assignment, check) for check in checks)
    return f"{total:g} point" + ("" if total == 1 else "s")
