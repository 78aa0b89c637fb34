"""Fixtures shared by the test modules: small fake datasets in the real on-disk formats."""
import os

import pytest
import torch

from fakedata import make_celeba, make_cifar_jpegs

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)  # one thread per xdist worker: two workers on two cores, no oversubscription


@pytest.fixture(scope="session")
def fake_data_root(tmp_path_factory):
    """A data root with a tiny CIFAR-10 (mirror JPEG layout) and a tiny CelebA (mirror layout)."""
    root = tmp_path_factory.mktemp("data")
    make_cifar_jpegs(root, n_train=96, n_test=40)
    make_celeba(root, n=80)
    return root
