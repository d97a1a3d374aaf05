"""The engine runs any network that states a `ModelDescriptor`: here a 3x3 box blur, not SAPHNet."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from deblur_cli.engine import Deblurrer
from deblur_cli.engine.tiling import tile_spans
from deblur_cli.errors import ImageSizeError
from deblur_cli.model.descriptor import ModelDescriptor, ModelOutput, pad_to_multiple

MULTIPLE = 8


class BoxBlur(nn.Module):
    """A 3x3 box blur per channel that states its contract, and knows nothing of the engine."""

    def __init__(self, **contract: object) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1, padding_mode="replicate", groups=3, bias=False)
        nn.init.constant_(self.conv.weight, 1 / 9)
        self.descriptor = ModelDescriptor(size_multiple=MULTIPLE, min_size=4, supports_half=False,
                                          supports_bfloat16=True, tiling_safe=True, **contract)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def _expected(img: np.ndarray) -> np.ndarray:
    """The blur of the whole image, padded to the size multiple as the engine pads, cropped back."""
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    with torch.no_grad():
        out = BoxBlur()(pad_to_multiple(x, MULTIPLE))
    return out[0, :, : img.shape[0], : img.shape[1]].permute(1, 2, 0).numpy()


def _restore(d: Deblurrer, img: np.ndarray) -> tuple[np.ndarray, int]:
    tiles = []
    out = d.restore(img, progress=lambda done, total: tiles.append(total))
    return out, tiles[-1]


def test_a_foreign_network_runs_whole_and_tiled() -> None:
    img = np.random.default_rng(0).random((50, 70, 3), dtype=np.float32)
    expected = _expected(img)
    whole, count = _restore(Deblurrer(BoxBlur(), device="cpu", tile=0), img)
    assert count == 1 and whole.shape == img.shape and whole.dtype == np.float32
    np.testing.assert_allclose(whole, expected, atol=1e-6)
    tiled, count = _restore(Deblurrer(BoxBlur(), device="cpu", tile=32, tile_overlap=8), img)
    assert count == 6 and tiled.shape == img.shape and tiled.dtype == np.float32
    # A tile's outermost pixels inside the image blur a replicated border instead of their neighbours; the
    # blend gives them little weight. Everywhere else the tiles agree with the whole image.
    seams = np.zeros(img.shape[:2], dtype=bool)
    for axis, length in enumerate(img.shape[:2]):
        for start, end in tile_spans(length, 32, 8, MULTIPLE):
            for edge in {start, end - 1} - {0, length - 1}:
                seams[(slice(None), edge) if axis else edge] = True
    np.testing.assert_allclose(tiled[~seams], expected[~seams], atol=1e-6)
    np.testing.assert_allclose(tiled[seams], expected[seams], atol=1e-2)


def test_pixel_types_and_channels_come_back_as_they_went_in() -> None:
    d = Deblurrer(BoxBlur(), device="cpu", tile=32, tile_overlap=8)
    flat = np.full((40, 44, 4), 200, dtype=np.uint8)
    flat[..., 3] = 7
    out = d.restore(flat)
    assert out.dtype == np.uint8 and np.array_equal(out, flat)  # a blur keeps a flat image and the alpha
    gray = np.full((40, 44), 1000, dtype=np.uint16)
    assert np.array_equal(d.restore(gray), gray)


def test_the_budget_is_resolved_once_and_reaches_every_run() -> None:
    seen: list[tuple[float, ...]] = []

    def run(model: nn.Module, x: torch.Tensor, budget: tuple[float, ...], record: bool) -> ModelOutput:
        assert x.shape[-2] % MULTIPLE == 0 and x.shape[-1] % MULTIPLE == 0
        seen.append(budget)
        return ModelOutput(image=model(x))

    net = BoxBlur(default_budget=(0.4, 0.2), run=run)
    d = Deblurrer(net, device="cpu", tile=16, tile_overlap=0, budget=0.2)
    assert d.fractions == pytest.approx((0.2, 0.1))
    d.restore(np.zeros((30, 30, 3), dtype=np.uint8))
    assert len(seen) == 4 and all(budget is d.fractions for budget in seen)
    with pytest.raises(ValueError, match="budget needs 2 fractions"):
        Deblurrer(net, device="cpu", budget=(0.5,))


def test_the_contract_decides_precision_tiling_and_size() -> None:
    cast: list[torch.dtype] = []

    def to_dtype(model: nn.Module, dtype: torch.dtype) -> nn.Module:
        cast.append(dtype)
        return model.to(dtype)

    d = Deblurrer(BoxBlur(to_dtype=to_dtype), device="cpu", precision="bf16")
    assert cast == [torch.bfloat16] and d.model.conv.weight.dtype == torch.bfloat16
    whole_only = BoxBlur()
    whole_only.descriptor = dataclasses.replace(whole_only.descriptor, tiling_safe=False)
    _, count = _restore(Deblurrer(whole_only, device="cpu"), np.zeros((600, 40, 3), dtype=np.uint8))
    assert count == 1
    _, count = _restore(Deblurrer(BoxBlur(), device="cpu"), np.zeros((600, 40, 3), dtype=np.uint8))
    assert count == 2  # memory unknown: the CPU's largest automatic tile
    with pytest.raises(ImageSizeError, match="each side needs at least 4 pixels"):
        Deblurrer(BoxBlur(), device="cpu").restore(np.zeros((3, 40, 3), dtype=np.uint8))


def test_maps_of_a_network_that_records_none_are_empty() -> None:
    _, maps = Deblurrer(BoxBlur(), device="cpu").restore_with_maps(np.zeros((20, 30, 3), dtype=np.uint8))
    assert maps.difficulty.shape == (0, 20, 30) and maps.chosen.dtype == bool
    assert maps.attention == {} and maps.offsets == {} and maps.cell == 1
