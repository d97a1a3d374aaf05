"""Deblurrer: pixel types and channels round trip, tiling with a real network, maps, budget, errors."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from deblur_cli.engine import Deblurrer, Maps
from deblur_cli.engine.tiling import tile_spans
from deblur_cli.errors import ImageSizeError, NumericalError
from deblur_cli.model import create_model

H, W = 70, 90


def _random(shape: tuple[int, ...], dtype: type, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype is np.float32:
        return rng.random(shape, dtype=np.float32)
    return rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True, dtype=dtype)


@pytest.fixture(scope="module")
def identity() -> Deblurrer:
    """An untrained test network: its residuals start at zero, so it returns its input."""
    torch.manual_seed(0)
    return Deblurrer(create_model("saphnet-test"), device="cpu", tile=0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("shape", [(H, W), (H, W, 1), (H, W, 3), (H, W, 4)])
def test_untrained_network_returns_the_input_in_its_own_dtype_and_shape(
    identity: Deblurrer, dtype: type, shape: tuple[int, ...]
) -> None:
    img = _random(shape, dtype)
    out = identity.restore(img)
    assert out.dtype == img.dtype and out.shape == img.shape
    lsb = 1e-5 if dtype is np.float32 else 1
    assert np.abs(out.astype(np.float64) - img.astype(np.float64)).max() <= lsb
    if shape[-1] == 4:
        assert np.array_equal(out[..., 3], img[..., 3])  # alpha passed through untouched


def test_rgba_alpha_is_not_fed_to_the_network(perturbed_model) -> None:
    """Same RGB, different alpha: the restored RGB is the same, and each alpha comes back as it was."""
    d = Deblurrer(perturbed_model(), device="cpu", tile=0)
    rgba = _random((H, W, 4), np.uint8)
    other = rgba.copy()
    other[..., 3] = 255 - other[..., 3]
    a, b = d.restore(rgba), d.restore(other)
    assert np.array_equal(a[..., :3], b[..., :3])
    assert np.array_equal(a[..., 3], rgba[..., 3]) and np.array_equal(b[..., 3], other[..., 3])
    assert np.array_equal(a[..., :3], d.restore(rgba[..., :3]))


def test_grayscale_runs_as_rgb_and_averages_back(perturbed_model) -> None:
    d = Deblurrer(perturbed_model(), device="cpu", tile=0)
    gray = _random((H, W), np.float32)
    rgb = d.restore(np.repeat(gray[..., None], 3, axis=2))
    out = d.restore(gray)
    assert out.shape == (H, W)
    np.testing.assert_allclose(out, rgb.mean(axis=2), atol=1e-6)
    assert np.abs(out - gray).mean() > 0.01  # the network really ran


def test_float_output_is_clamped_to_unit_range(identity: Deblurrer) -> None:
    img = np.linspace(-0.5, 1.5, H * W * 3, dtype=np.float32).reshape(H, W, 3)
    out = identity.restore(img)
    assert out.min() == 0.0 and out.max() == 1.0
    inside = (img >= 0) & (img <= 1)
    np.testing.assert_allclose(out[inside], img[inside], atol=1e-5)


def _tiles_used(d: Deblurrer, img: np.ndarray) -> tuple[np.ndarray, int]:
    totals: list[int] = []
    out = d.restore(img, progress=lambda done, total: totals.append(total))
    return out, totals[-1]


def test_tiled_run_of_a_real_network_is_close_to_the_untiled_one(perturbed_model, smooth_image) -> None:
    """Tiling changes what global attention and the adaptive sampling see (each tile picks its own top-K
    cells), so results differ somewhat; with sampling off they differ only slightly.
    Measured here (140 x 180, 64-pixel tiles, overlap 32): sampling on: max 0.147, mean 0.006 (the image
    itself changes by 0.062 on average); sampling off: max 0.015, mean 0.0014."""
    img = smooth_image(140, 180)
    for overrides, max_diff, mean_diff in (({}, 0.25, 0.012), ({"sampling": False}, 0.03, 0.003)):
        net = perturbed_model(**overrides)
        whole, count = _tiles_used(Deblurrer(net, device="cpu", tile=0), img)
        assert count == 1
        tiled, count = _tiles_used(Deblurrer(net, device="cpu", tile=64, tile_overlap=32), img)
        assert count == len(tile_spans(140, 64, 32, 8)) * len(tile_spans(180, 64, 32, 8)) > 4
        change = np.abs(whole - img).mean()
        diff = np.abs(tiled - whole)
        assert change > 0.03
        assert diff.max() < max_diff and diff.mean() < mean_diff, (overrides, diff.max(), diff.mean())


def test_same_input_gives_the_same_output(perturbed_model, smooth_image) -> None:
    img = (smooth_image(H, W) * 65535).astype(np.uint16)
    d = Deblurrer(perturbed_model(), device="cpu", tile=32, tile_overlap=8)
    first = d.restore(img)
    assert np.array_equal(first, d.restore(img))
    again = Deblurrer(perturbed_model(), device="cpu", tile=32, tile_overlap=8)
    assert np.array_equal(first, again.restore(img))


def test_one_deblurrer_restores_two_images_at_once(perturbed_model, smooth_image) -> None:
    """Nothing of an image is kept on the Deblurrer, so concurrent calls do not mix their images."""
    d = Deblurrer(perturbed_model(), device="cpu", tile=32, tile_overlap=8)
    images = [(smooth_image(H, W) * 255).astype(np.uint8), _random((H + 8, W - 8, 3), np.uint8, seed=5)]
    alone = [d.restore(img) for img in images]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(d.restore, images))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))


def test_auto_tile_runs_a_small_image_in_one_tile(identity: Deblurrer) -> None:
    d = Deblurrer(identity.model, device="cpu")
    img = _random((H, W, 3), np.uint8)
    out, count = _tiles_used(d, img)
    assert count == 1 and np.array_equal(out, img)


def test_maps_cover_the_image_cell_grid(perturbed_model) -> None:
    """Maps keep only what touches the image: ceil(H / cell) x ceil(W / cell) cells, ceil(H / s) x
    ceil(W / s) pixels for a map at scale s, whether the image ran in one tile or several."""
    net = perturbed_model()
    img = _random((H, W, 3), np.uint8)
    cfg = net.config
    grid = (cfg.refinement_stages, math.ceil(H / cfg.cell), math.ceil(W / cfg.cell))
    runs = {t: Deblurrer(net, device="cpu", tile=t, tile_overlap=8).restore_with_maps(img) for t in (0, 32)}
    for tile, (out, maps) in runs.items():
        assert isinstance(maps, Maps) and maps.cell == cfg.cell
        assert np.array_equal(out, Deblurrer(net, device="cpu", tile=tile, tile_overlap=8).restore(img))
        assert maps.difficulty.shape == grid and maps.difficulty.dtype == np.float32
        assert maps.chosen.shape == grid and maps.chosen.dtype == bool
        assert maps.difficulty.min() >= 0.0 and maps.difficulty.max() <= 1.0
        assert maps.attention and maps.offsets
        assert set(maps.scale) == set(maps.attention) | set(maps.offsets)
        assert set(maps.scale.values()) == {1, 2, 4}
        for name, a in maps.attention.items():
            s = maps.scale[name]
            assert a.shape == (cfg.attention_maps, math.ceil(H / s), math.ceil(W / s))
            np.testing.assert_allclose(a.sum(axis=(1, 2)), 1.0, rtol=1e-5)
        for name, o in maps.offsets.items():
            s = maps.scale[name]
            assert o.shape == (2 * cfg.filter_size**2, math.ceil(H / s), math.ceil(W / s))
    # Untiled, each stage chose exactly ceil(rho x cells) cells (the padded grid equals the image's here).
    chosen = runs[0][1].chosen.sum(axis=(1, 2))
    assert chosen.tolist() == [math.ceil(rho * grid[1] * grid[2]) for rho in cfg.budget]
    for name in runs[0][1].attention:
        assert runs[0][1].attention[name].shape == runs[32][1].attention[name].shape


def test_map_names_keep_only_the_maps_asked_for(identity: Deblurrer) -> None:
    img = _random((32, 40, 3), np.uint8)
    _, everything = identity.restore_with_maps(img)
    wanted = sorted(everything.attention)[0]
    _, few = identity.restore_with_maps(img, map_names=[wanted])
    assert list(few.attention) == [wanted] and few.offsets == {}
    assert np.array_equal(few.attention[wanted], everything.attention[wanted])


@pytest.mark.parametrize(("budget", "expected"), [(0.0, [0, 0]), (1.0, [1, 0.5]), ((0.25, 0.5), [0.25, 0.5])])
def test_budget_reaches_the_network(budget, expected: list[float]) -> None:
    d = Deblurrer(create_model("saphnet-test"), device="cpu", tile=0, budget=budget)
    _, maps = d.restore_with_maps(_random((64, 64, 3), np.uint8))
    assert maps.chosen.mean(axis=(1, 2)).tolist() == expected


def test_invalid_budget_is_rejected_when_building() -> None:
    with pytest.raises(ValueError, match="budget"):
        Deblurrer(create_model("saphnet-test"), device="cpu", budget=(0.5, 2.0))


@pytest.mark.parametrize("shape", [(0, 10, 3), (10, 0, 3), (0, 0)])
def test_empty_images_are_an_image_size_error(identity: Deblurrer, shape: tuple[int, ...]) -> None:
    with pytest.raises(ImageSizeError, match="too small"):
        identity.restore(np.zeros(shape, dtype=np.uint8))


def test_an_image_too_large_for_memory_is_an_image_size_error(identity: Deblurrer) -> None:
    huge = np.broadcast_to(np.zeros((1, 1, 3), dtype=np.uint8), (300_000, 300_000, 3))  # no memory behind it
    with pytest.raises(ImageSizeError, match="too large: its result needs about .* GiB"):
        identity.restore(huge)


@pytest.mark.parametrize(
    ("img", "message"),
    [
        (np.zeros((8, 8, 3), dtype=np.float64), "unsupported pixel type float64"),
        (np.zeros((8, 8, 2), dtype=np.uint8), "C in 1, 3, 4"),
        (np.zeros((8,), dtype=np.uint8), "C in 1, 3, 4"),
        ([[0, 1]], "numpy array"),
    ],
)
def test_unsupported_arrays_are_a_value_error(identity: Deblurrer, img, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        identity.restore(img)


@pytest.mark.parametrize(("tile", "overlap"), [(-1, 32), ("big", 32), (True, 32), (64, -1), (64, 1.5)])
def test_bad_tile_settings_are_a_value_error(tile, overlap) -> None:
    with pytest.raises(ValueError, match="tile"):
        Deblurrer(create_model("saphnet-test"), device="cpu", tile=tile, tile_overlap=overlap)


def test_tile_size_is_rounded_to_the_size_multiple() -> None:
    net = create_model("saphnet-test")
    assert Deblurrer(net, device="cpu", tile=70).tile == 64
    assert Deblurrer(net, device="cpu", tile=3).tile == net.descriptor.size_multiple


def test_model_is_put_in_eval_mode_for_every_run(perturbed_model) -> None:
    net = perturbed_model()
    d = Deblurrer(net, device="cpu", tile=0)
    img = _random((H, W, 3), np.uint8)
    first = d.restore(img)
    net.train()  # e.g. a training loop evaluating through the engine
    assert np.array_equal(d.restore(img), first)
    assert not net.training


def test_non_finite_output_is_an_error_not_an_image() -> None:
    net = create_model("saphnet-test")
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(float("nan"))
    broken = Deblurrer(net, device="cpu", tile=0)
    with pytest.raises(NumericalError, match="NaN or infinite values"):
        broken.restore(_random((24, 32, 3), np.uint8))
