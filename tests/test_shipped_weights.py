"""The shipped weights deblur real blur: GoPro test-scene pairs no shipped network was trained on.

Centre 256 px crops of three `val/gopro-test` pairs (in ../shared/data, present in CI, not on a user's
machine): both presets gain 2.1-4.0 dB on each (full frames: saphnet-s 29.15 dB, saphnet-b 29.28 dB against
27.08 dB); the bounds leave room for CPU rounding, not for a network that stops deblurring.
"""

from pathlib import Path

import numpy as np
import pytest

from deblur_cli import Deblurrer
from deblur_cli.io import read_image

PAIRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "val" / "gopro-test"
FRAMES = [f"GOPR0410_11_00_st_frame-{n}_n_avg-8.png" for n in (151, 326, 472)]
CROP = 256

pytestmark = pytest.mark.skipif(not PAIRS.is_dir(), reason="shared val/gopro-test pairs not present")


def _psnr(image: np.ndarray, reference: np.ndarray) -> float:
    error = np.mean((image.astype(np.float64) - reference.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / error))


def _centre(image: np.ndarray) -> np.ndarray:
    y0, x0 = (image.shape[0] - CROP) // 2, (image.shape[1] - CROP) // 2
    return image[y0 : y0 + CROP, x0 : x0 + CROP]


@pytest.mark.parametrize("preset", ["saphnet-s", "saphnet-b"])
def test_shipped_weights_sharpen_real_blur(preset: str) -> None:
    deblurrer = Deblurrer.from_pretrained(preset, device="cpu", tile=0)
    assert not deblurrer.untrained, f"{preset} ships weights: they must load"
    gains = []
    for name in FRAMES:
        blurred = _centre(read_image(PAIRS / "blur" / name).pixels)
        sharp = _centre(read_image(PAIRS / "sharp" / name).pixels)
        gains.append(_psnr(deblurrer.restore(blurred), sharp) - _psnr(blurred, sharp))
    assert min(gains) > 1.0, gains
    assert np.mean(gains) > 2.0, gains
