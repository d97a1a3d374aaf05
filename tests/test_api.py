"""The Python API as the README shows it: `from deblur_cli import Deblurrer, create_model, list_presets`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import deblur_cli
from deblur_cli import Deblurrer, create_model, list_presets
from deblur_cli.engine import Maps
from deblur_cli.errors import ImageSizeError, WeightsError


@pytest.fixture(scope="module")
def deblurrer() -> Deblurrer:
    torch.set_num_threads(1)
    return Deblurrer.from_pretrained("saphnet-s", device="cpu")


def _photo(height: int = 48, width: int = 64) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_the_public_face_is_small() -> None:
    assert sorted(deblur_cli.__all__) == ["Deblurrer", "create_model", "list_presets"]
    assert list_presets() == ["saphnet-s", "saphnet-b"]
    assert create_model("saphnet-s").config.width == 32


def test_restore_gives_the_same_shape_and_dtype(deblurrer: Deblurrer) -> None:
    photo = _photo()
    sharp = deblurrer.restore(photo)
    assert sharp.shape == photo.shape and sharp.dtype == np.uint8
    assert not deblurrer.untrained


def test_restore_with_maps_gives_the_image_and_its_maps(deblurrer: Deblurrer) -> None:
    photo = _photo()
    sharp, maps = deblurrer.restore_with_maps(photo)
    assert np.array_equal(sharp, deblurrer.restore(photo))
    assert isinstance(maps, Maps) and maps.difficulty.shape[1:] == (-(-48 // maps.cell), -(-64 // maps.cell))


def test_options_are_keyword_only(deblurrer: Deblurrer) -> None:
    with pytest.raises(TypeError):
        Deblurrer.from_pretrained("saphnet-s", None)  # type: ignore[misc]
    with pytest.raises(TypeError):
        deblurrer.restore(_photo(), None)  # type: ignore[misc]
    with pytest.raises(TypeError):
        deblurrer.restore_with_maps(_photo(), None)  # type: ignore[misc]


def test_errors_are_the_projects_own(deblurrer: Deblurrer, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="no such weights file"):
        Deblurrer.from_pretrained("saphnet-s", weights=str(tmp_path / "missing.safetensors"))
    with pytest.raises(ImageSizeError, match="too small"):
        deblurrer.restore(_photo(0, 8))
    with pytest.raises(ValueError, match="unknown preset"):
        Deblurrer.from_pretrained("saphnet-xl")
    with pytest.raises(ValueError, match="numpy array"):
        deblurrer.restore([[0, 0, 0]])  # type: ignore[arg-type]
