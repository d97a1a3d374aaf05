"""Image-quality metrics for deblurring: PSNR and SSIM, as deblurring papers report them.

Both take numpy H x W or H x W x C arrays, or torch C x H x W / N x C x H x W tensors, with values on a
scale of ``data_range`` (1.0 for [0, 1] floats, 255 for uint8 read as numbers). They are computed in
float64 on the values given: clip and quantise the restored image as it would be saved before measuring.

SSIM is Wang et al. (2004) with their published settings, as in their reference ``ssim_index.m`` and in
scikit-image's ``structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, channel_axis=-1, data_range=1)``: an 11 x 11 Gaussian window with sigma 1.5,
K1 = 0.01, K2 = 0.03, the map averaged over the pixels where the window fits (5 pixels trimmed from each
border), then over the RGB channels (not on luma Y, which some papers use and which scores higher).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["psnr", "ssim", "ssim_map"]

_WINDOW = 11
_SIGMA = 1.5
_K1, _K2 = 0.01, 0.03


def _as_batch(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    """N x C x H x W float64 tensor from a numpy H x W (x C) array or a torch (N x) C x H x W tensor."""
    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            image = image[..., None]
        if image.ndim != 3:
            raise ValueError(f"expected a numpy H x W or H x W x C array, got shape {image.shape}")
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float64))[None]
    if isinstance(image, torch.Tensor):
        if image.ndim == 3:
            image = image[None]
        if image.ndim != 4:
            raise ValueError(
                f"expected a torch C x H x W or N x C x H x W tensor, got shape {tuple(image.shape)}"
            )
        image = image.detach()
        return image.double() if image.device.type in ("cpu", "cuda") else image.cpu().double()
    raise TypeError(f"expected a numpy array or a torch tensor, got {type(image).__name__}")


def _pair(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = _as_batch(a), _as_batch(b)
    if x.shape != y.shape:
        raise ValueError(f"images differ in shape: {tuple(x.shape)} vs {tuple(y.shape)}")
    return x, y


def _reduce(values: torch.Tensor, reduction: Literal["mean", "none"]) -> float | list[float]:
    if reduction == "none":
        return [float(v) for v in values]
    if reduction == "mean":
        return float(values.mean())
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def psnr(
    a: np.ndarray | torch.Tensor,
    b: np.ndarray | torch.Tensor,
    data_range: float = 1.0,
    *,
    reduction: Literal["mean", "none"] = "mean",
) -> float | list[float]:
    """Peak signal-to-noise ratio in dB, 10 log10(range^2 / MSE) per image; ``inf`` for identical images.

    For a batch, ``reduction="mean"`` averages the per-image PSNRs (the usual way to report a test set).
    """
    x, y = _pair(a, b)
    mse = ((x - y) ** 2).flatten(1).mean(dim=1)
    values = torch.where(mse > 0, 10.0 * torch.log10(data_range**2 / mse), torch.full_like(mse, math.inf))
    return _reduce(values, reduction)


def _gaussian_window() -> torch.Tensor:
    coords = torch.arange(_WINDOW, dtype=torch.float64) - (_WINDOW - 1) / 2
    g = torch.exp(-(coords**2) / (2 * _SIGMA**2))
    return g / g.sum()


def ssim_map(
    a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, data_range: float = 1.0
) -> torch.Tensor:
    """Per-pixel, per-channel SSIM: N x C x (H - 10) x (W - 10) float64 (the window's valid positions)."""
    x, y = _pair(a, b)
    if min(x.shape[-2:]) < _WINDOW:
        raise ValueError(f"SSIM needs images of at least {_WINDOW}x{_WINDOW}, got {tuple(x.shape[-2:])}")
    n, c = x.shape[:2]
    g = _gaussian_window().to(x.device)
    kernel_h = g.view(1, 1, 1, _WINDOW).expand(c, 1, 1, _WINDOW)
    kernel_v = g.view(1, 1, _WINDOW, 1).expand(c, 1, _WINDOW, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, kernel_h, groups=c), kernel_v, groups=c)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))


def ssim(
    a: np.ndarray | torch.Tensor,
    b: np.ndarray | torch.Tensor,
    data_range: float = 1.0,
    *,
    reduction: Literal["mean", "none"] = "mean",
) -> float | list[float]:
    """Structural similarity (Gaussian 11 x 11 window, sigma 1.5), averaged over pixels and RGB channels.

    1.0 for identical images; for a batch, ``reduction="mean"`` averages the per-image values.
    """
    values = ssim_map(a, b, data_range).flatten(1).mean(dim=1)
    return _reduce(values, reduction)
