"""Tiling as plain functions: tile placement, exact blending of agreeing tiles, no seams, OOM halving."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deblur_cli.engine.tiling import AxisBlend, Box, Layers, stitch_tiles, stitch_with_retry, tile_spans
from deblur_cli.errors import DeviceError


@pytest.mark.parametrize("length", [1, 7, 64, 65, 100, 257, 1000])
@pytest.mark.parametrize(("tile", "overlap", "align"), [(64, 16, 16), (32, 8, 8), (48, 40, 8), (128, 0, 16)])
def test_tile_spans_cover_aligned_and_overlapping(length: int, tile: int, overlap: int, align: int) -> None:
    spans = tile_spans(length, tile, overlap, align)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(a % align == 0 for a, _ in spans)
    assert all(0 < b - a <= tile for a, b in spans)
    for (a0, b0), (a1, _) in zip(spans, spans[1:], strict=False):
        assert a0 < a1 <= b0  # each start moves on, leaving no gap after the previous tile
        wanted = min(overlap, tile - align)  # at least one align step of stride is always kept
        assert b0 - a1 >= wanted
    if length <= tile:
        assert spans == [(0, length)]


@pytest.mark.parametrize(("length", "tile"), [(2048, 1024), (3000, 1024), (1025, 1024), (5000, 512)])
def test_tiles_are_as_few_as_fit_and_share_the_length_evenly(length: int, tile: int) -> None:
    spans = tile_spans(length, tile, 32, 16)
    assert len(spans) == math.ceil((length - 32) / (tile - 32))
    sizes = [b - a for a, b in spans]
    assert max(sizes) - min(sizes) < 16
    assert sum(sizes) - length <= (len(spans) - 1) * (32 + 16)  # the overlaps, and no more
    assert tile_spans(2048, 1024, 32, 16) == [(0, 704), (672, 1376), (1344, 2048)]


def test_tile_spans_rejects_a_tile_off_the_alignment() -> None:
    with pytest.raises(ValueError, match="multiple of 16"):
        tile_spans(100, 40, 8, 16)


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((3, h, w), dtype=np.float32)


def _run_whole(fn, img: np.ndarray) -> Layers:
    h, w = img.shape[1:]
    return fn((0, h, 0, w))


def test_identity_tiles_reproduce_the_image_bit_for_bit() -> None:
    img = _image(70, 90)
    boxes: list[Box] = []

    def identity(box: Box) -> Layers:
        boxes.append(box)
        y0, y1, x0, x1 = box
        return {"image": (1, img[:, y0:y1, x0:x1].copy())}

    out = stitch_tiles(70, 90, identity, tile=32, overlap=8, align=8)
    assert len(boxes) > 4  # really tiled
    assert np.array_equal(out["image"][1], img)


def test_position_independent_ops_at_several_scales_match_the_untiled_run() -> None:
    """A per-pixel op (scale 1) and 4x4 block means (scale 4, ragged at the image's edge) are position-
    independent once tiles start on multiples of 4: tiled and untiled results are identical."""
    img = _image(70, 90, seed=1)
    mix = np.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]], dtype=np.float32)

    def ops(box: Box) -> Layers:
        y0, y1, x0, x1 = box
        patch = img[:, y0:y1, x0:x1]
        pixelwise = np.tanh(np.einsum("ij,jhw->ihw", mix, patch)) ** 2
        h, w = patch.shape[1:]
        padded = np.pad(patch[:1], ((0, 0), (0, -h % 4), (0, -w % 4)), mode="edge")
        blocks = padded.reshape(1, -(-h // 4), 4, -(-w // 4), 4).mean(axis=(2, 4))
        return {"image": (1, pixelwise.astype(np.float32)), "blocks": (4, blocks.astype(np.float32))}

    whole = _run_whole(ops, img)
    tiled = stitch_tiles(70, 90, ops, tile=32, overlap=12, align=8)
    assert tiled["blocks"][1].shape == (1, 18, 23)  # ceil(70 / 4) x ceil(90 / 4)
    for name in ("image", "blocks"):
        assert tiled[name][0] == whole[name][0]
        assert np.array_equal(tiled[name][1], whole[name][1])


def test_disagreeing_tiles_blend_without_a_seam() -> None:
    """Tile (r, c) returns the constant r * columns + c (the worst disagreement): neighbours across a
    column boundary differ by 1, across a row boundary by `columns`. A raised cosine over an overlap of
    n pixels changes by at most delta * pi / (2 n) per pixel; a hard seam would jump by delta."""
    spans_y, spans_x = tile_spans(96, 48, 16, 8), tile_spans(128, 48, 16, 8)
    columns = len(spans_x)
    starts_y, starts_x = [a for a, _ in spans_y], [a for a, _ in spans_x]

    def constant(box: Box) -> Layers:
        y0, y1, x0, x1 = box
        value = starts_y.index(y0) * columns + starts_x.index(x0)
        return {"image": (1, np.full((1, y1 - y0, x1 - x0), float(value), dtype=np.float32))}

    out = stitch_tiles(96, 128, constant, tile=48, overlap=16, align=8)["image"][1][0]
    assert len(spans_y) > 1 and columns > 1
    min_overlap_x = min(b - a for (_, b), (a, _) in zip(spans_x, spans_x[1:], strict=False))
    min_overlap_y = min(b - a for (_, b), (a, _) in zip(spans_y, spans_y[1:], strict=False))
    assert np.abs(np.diff(out, axis=1)).max() <= 1 * math.pi / (2 * min_overlap_x) * 1.01
    assert np.abs(np.diff(out, axis=0)).max() <= columns * math.pi / (2 * min_overlap_y) * 1.01
    assert out.min() == 0 and out.max() == len(spans_y) * columns - 1  # each tile's own area keeps its value


def test_axis_blend_refuses_tile_starts_off_the_layer_scale() -> None:
    with pytest.raises(ValueError, match="multiples of the layer scale"):
        AxisBlend.build([(0, 40), (24, 64)], 64, 16)


def test_progress_counts_every_tile() -> None:
    calls: list[tuple[int, int]] = []

    def zeros(box: Box) -> Layers:
        y0, y1, x0, x1 = box
        return {"image": (1, np.zeros((1, y1 - y0, x1 - x0), dtype=np.float32))}

    stitch_tiles(70, 90, zeros, tile=32, overlap=8, align=8, progress=lambda d, t: calls.append((d, t)))
    total = len(tile_spans(70, 32, 8, 8)) * len(tile_spans(90, 32, 8, 8))
    assert calls == [(i, total) for i in range(1, total + 1)]


CPU_OOM = RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate "
                       "memory: you tried to allocate 3221225472 bytes.")


def _oom_above(limit: int, img: np.ndarray, sizes: list[int], error: BaseException | None = None):
    def fn(box: Box) -> Layers:
        y0, y1, x0, x1 = box
        sizes.append(max(y1 - y0, x1 - x0))
        if max(y1 - y0, x1 - x0) > limit:
            raise error or torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return {"image": (1, img[:, y0:y1, x0:x1].copy())}

    return fn


def test_out_of_memory_halves_the_tile_until_it_fits() -> None:
    img = _image(100, 120, seed=2)
    sizes: list[int] = []
    calls: list[tuple[int, int]] = []
    out = stitch_with_retry(100, 120, _oom_above(40, img, sizes), tile=0, overlap=8, align=8, min_tile=16,
                            progress=lambda d, t: calls.append((d, t)))
    assert np.array_equal(out["image"][1], img)
    # whole image (120 -> 120) fails, then 56 fails, then 24-pixel tiles succeed everywhere
    assert sizes[0] == 120 and 56 in sizes and max(sizes[-10:]) <= 40
    final_total = calls[-1][1]
    assert calls[-1] == (final_total, final_total) and final_total == len(tile_spans(100, 24, 8, 8)) * len(
        tile_spans(120, 24, 8, 8))


def test_out_of_memory_below_the_minimum_tile_is_a_device_error() -> None:
    img = _image(64, 64, seed=3)
    with pytest.raises(DeviceError, match="out of memory even with 32-pixel tiles"):
        stitch_with_retry(64, 64, _oom_above(8, img, []), tile=64, overlap=8, align=8, min_tile=32)


@pytest.mark.parametrize("error", [CPU_OOM, MemoryError(), torch.OutOfMemoryError("MPS out of memory")])
def test_out_of_memory_on_any_device_halves_the_tile(error: BaseException) -> None:
    img = _image(64, 64, seed=4)
    sizes: list[int] = []
    out = stitch_with_retry(64, 64, _oom_above(32, img, sizes, error), tile=0, overlap=8, align=8,
                            min_tile=16)
    assert np.array_equal(out["image"][1], img) and sizes[0] == 64 and max(sizes[1:]) <= 32
    with pytest.raises(DeviceError, match="out of memory even with 16-pixel tiles"):
        stitch_with_retry(64, 64, _oom_above(8, img, [], error), tile=0, overlap=8, align=8, min_tile=16)


def test_other_runtime_errors_are_not_taken_for_out_of_memory() -> None:
    img = _image(64, 64, seed=5)
    sizes: list[int] = []
    with pytest.raises(RuntimeError, match="shape mismatch"):
        stitch_with_retry(64, 64, _oom_above(8, img, sizes, RuntimeError("shape mismatch")), tile=0,
                          overlap=8, align=8, min_tile=16)
    assert sizes == [64]
