"""Fixtures of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from deblur_cli.model import create_model
from deblur_cli.weights import save_pretrained


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny weights that change their input (an untrained network starts as the identity)."""
    torch.manual_seed(0)
    model = create_model("saphnet-test")
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.02)
    folder = tmp_path_factory.mktemp("weights")
    save_pretrained(model, folder, preset="saphnet-test", dtype=torch.float32)
    return folder
