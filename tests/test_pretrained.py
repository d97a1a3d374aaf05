"""`Deblurrer.from_pretrained`: the public class built from saved weights, or untrained (and saying so)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from deblur_cli import Deblurrer, engine
from deblur_cli.weights import load_model


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def test_from_pretrained_loads_saved_weights(weights: Path) -> None:
    d = Deblurrer.from_pretrained("saphnet-test", weights=str(weights), device="cpu", tile=0)
    assert type(d) is Deblurrer and not d.untrained
    img = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    net, _ = load_model(str(weights), preset="saphnet-test")
    restored = d.restore(img)
    assert np.array_equal(restored, engine.Deblurrer(net, device="cpu", tile=0).restore(img))
    assert not np.array_equal(restored, img)  # the saved weights, not the untrained identity


def test_from_pretrained_without_weights_is_untrained_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="deblur_cli.engine"):
        d = Deblurrer.from_pretrained("saphnet-test", device="cpu", offline=True)
    assert d.untrained
    engine_records = [r for r in caplog.records if r.name.startswith("deblur_cli.engine")]
    assert any("untrained" in r.getMessage() for r in engine_records)
