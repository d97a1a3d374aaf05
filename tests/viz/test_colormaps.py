from __future__ import annotations

import numpy as np
import pytest

from deblur_cli.viz import apply_colormap, colormap


def _lightness(rgb: np.ndarray) -> np.ndarray:
    """CIE L* of sRGB uint8 colours (D65)."""
    c = rgb.astype(np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = linear @ np.array([0.2126, 0.7152, 0.0722])
    f = np.where(y > 216 / 24389, np.cbrt(y), (24389 / 27 * y + 16) / 116)
    return 116 * f - 16


def test_known_entries() -> None:
    viridis, magma = colormap("viridis"), colormap("magma")
    assert viridis.shape == magma.shape == (256, 3) and viridis.dtype == np.uint8
    assert tuple(viridis[0]) == (68, 1, 84)
    assert tuple(viridis[128]) == (33, 145, 140)  # #21918c
    assert tuple(viridis[255]) == (253, 231, 37)
    assert tuple(magma[0]) == (0, 0, 4)
    assert tuple(magma[128]) == (183, 55, 121)  # #b73779
    assert tuple(magma[255]) == (252, 253, 191)


@pytest.mark.parametrize("name", ["viridis", "magma"])
def test_lightness_rises_steadily(name: str) -> None:
    lightness = _lightness(colormap(name))
    steps = np.diff(lightness)
    assert lightness[-1] - lightness[0] > 75
    assert steps.min() > -0.1  # 8-bit rounding may wobble by a few hundredths, never more
    assert np.all(np.diff(lightness[::4]) > 0)
    assert steps.max() < 1.0  # no jumps: lightness is spread evenly over the 256 entries


def test_apply_colormap_endpoints_clip_and_nan() -> None:
    out = apply_colormap(np.array([[-1.0, 0.0, 0.5, 1.0, 2.0, np.nan]]), "viridis")
    lut = colormap("viridis")
    assert out.shape == (1, 6, 3)
    np.testing.assert_array_equal(out[0], lut[[0, 0, 128, 255, 255, 0]])
    middle = apply_colormap(np.array([5.0]), "magma", vmin=0, vmax=10)[0]
    np.testing.assert_array_equal(middle, colormap("magma")[128])


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown colour map"):
        colormap("jet")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="greater"):
        apply_colormap(np.zeros(2), vmin=1.0, vmax=1.0)


def test_tables_are_read_only() -> None:
    with pytest.raises(ValueError):
        colormap("viridis")[0, 0] = 0
