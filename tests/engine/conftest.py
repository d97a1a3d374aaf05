from __future__ import annotations

import numpy as np
import pytest
import torch

from deblur_cli.model import SAPHNet, create_model


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(1)


def _perturbed_model(sigma: float = 0.01, seed: int = 0, **overrides) -> SAPHNet:
    """The test preset with every weight nudged by N(0, sigma): no longer the identity, so its output
    depends on context the way a trained network's does (sigma 0.01 changes the image by ~0.06 on average)."""
    torch.manual_seed(seed)
    net = create_model("saphnet-test", **overrides)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * sigma)
    return net


def _smooth_image(h: int, w: int) -> np.ndarray:
    """An H x W x 3 float32 image in [0, 1] with structure at several scales."""
    yy, xx = np.mgrid[0:h, 0:w]
    channels = [np.sin(yy / 7) + np.cos(xx / 5), np.sin((xx + yy) / 9), np.cos(xx / 11) * np.sin(yy / 4)]
    img = np.stack(channels, axis=-1)
    return ((img - img.min()) / (img.max() - img.min())).astype(np.float32)


@pytest.fixture
def perturbed_model():
    """Factory: `perturbed_model(sigma=0.01, seed=0, **config_overrides)`."""
    return _perturbed_model


@pytest.fixture
def smooth_image():
    """Factory: `smooth_image(h, w)`."""
    return _smooth_image
