"""PSNR and SSIM: known values, limits, monotonicity, numpy / torch agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deblur_cli.train.metrics import psnr, ssim, ssim_map


def _pair(noise: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.random((37, 53, 3))
    return a, np.clip(a + noise * rng.standard_normal(a.shape), 0.0, 1.0)


def test_identical_images_give_infinite_psnr_and_ssim_one() -> None:
    a, _ = _pair(0.0)
    assert psnr(a, a) == math.inf
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)


def test_psnr_of_a_known_mse() -> None:
    a = np.zeros((10, 10, 3))
    b = np.full((10, 10, 3), 0.1)  # MSE 0.01 -> 20 dB on [0, 1]
    assert psnr(a, b) == pytest.approx(20.0, abs=1e-9)
    assert psnr(a * 255, b * 255, data_range=255.0) == pytest.approx(20.0, abs=1e-9)
    c = b.copy()
    c[:5] = 0.0  # half the pixels off by 0.1: MSE 0.005
    assert psnr(a, c) == pytest.approx(10 * math.log10(1 / 0.005), abs=1e-9)


def test_ssim_of_flat_images_is_the_luminance_term() -> None:
    # Flat images have no variance, so SSIM = (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1) exactly.
    a, b = np.full((20, 20, 3), 0.3), np.full((20, 20, 3), 0.5)
    c1 = 0.01**2
    assert ssim(a, b) == pytest.approx((2 * 0.3 * 0.5 + c1) / (0.3**2 + 0.5**2 + c1), abs=1e-12)


def test_ssim_matches_scikit_image_reference_value() -> None:
    # skimage 0.26 structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    # channel_axis=-1, data_range=1.0) on this pair gives 0.9455216164256232; PSNR 20.470305907715076.
    a, b = _pair(0.1)
    assert ssim(a, b) == pytest.approx(0.9455216164256232, abs=1e-12)
    assert psnr(a, b) == pytest.approx(20.470305907715076, abs=1e-9)


def test_ssim_falls_as_noise_grows() -> None:
    values = [ssim(*_pair(noise)) for noise in (0.01, 0.05, 0.1, 0.3)]
    assert all(v < 1.0 for v in values)
    assert values == sorted(values, reverse=True)
    assert values[0] - values[-1] > 0.3


def test_ssim_map_covers_the_valid_window_positions() -> None:
    a, b = _pair(0.1)
    assert tuple(ssim_map(a, b).shape) == (1, 3, 37 - 10, 53 - 10)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(a[:8], b[:8])


def test_torch_batches_agree_with_numpy_per_image() -> None:
    pairs = [_pair(n) for n in (0.05, 0.2)]
    x = torch.stack([torch.from_numpy(a).permute(2, 0, 1) for a, _ in pairs]).float()
    y = torch.stack([torch.from_numpy(b).permute(2, 0, 1) for _, b in pairs]).float()
    expected_psnr = [psnr(x[i].permute(1, 2, 0).numpy(), y[i].permute(1, 2, 0).numpy()) for i in range(2)]
    expected_ssim = [ssim(x[i].permute(1, 2, 0).numpy(), y[i].permute(1, 2, 0).numpy()) for i in range(2)]
    assert psnr(x, y, reduction="none") == pytest.approx(expected_psnr, abs=1e-9)
    assert ssim(x, y, reduction="none") == pytest.approx(expected_ssim, abs=1e-9)
    assert psnr(x, y) == pytest.approx(sum(expected_psnr) / 2, abs=1e-9)
    assert ssim(x[0], y[0]) == pytest.approx(expected_ssim[0], abs=1e-9)


def test_mismatched_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(np.zeros((8, 8, 3)), np.zeros((8, 9, 3)))
