"""Prototype implementations of the CAPM's pixel-dependent (deformable) filter, timed against the model's.

All compute out(p) = sum_i w_{p,i} F(p + p_i + d_{p,i}) with bilinear sampling and zero padding (the
model's `deformable_filter`); each is checked against it before timing. Runs alternate, medians shown.

    python benchmarks/prototype_filter.py --shapes 1x32x256x256,1x64x128128 --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics

import torch
import torch.nn.functional as F

from deblur_cli.bench import alternate
from deblur_cli.model.pixel_filter import deformable_filter, dynamic_filter


def per_tap_filter(x: torch.Tensor, weights: torch.Tensor, offsets: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """One grid_sample per tap, accumulated in place: never holds the (N, C, k^2 H, W) stack of samples."""
    n, c, h, w = x.shape
    groups, taps = weights.shape[1], weights.shape[2]
    r = kernel_size // 2
    ys = torch.arange(h, dtype=x.dtype).view(1, h, 1) * (2.0 / max(h - 1, 1)) - 1.0
    xs = torch.arange(w, dtype=x.dtype).view(1, 1, w) * (2.0 / max(w - 1, 1)) - 1.0
    sy, sx = 2.0 / max(h - 1, 1), 2.0 / max(w - 1, 1)
    off = offsets.view(n, taps, 2, h, w)
    out = torch.zeros(n, groups, c // groups, h, w, dtype=x.dtype)
    for i in range(taps):
        ty, tx = i // kernel_size - r, i % kernel_size - r
        grid = torch.stack([xs + (tx + off[:, i, 1]) * sx, ys + (ty + off[:, i, 0]) * sy], dim=-1)
        sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        out.addcmul_(sampled.view(n, groups, c // groups, h, w), weights[:, :, i].unsqueeze(2))
    return out.view(n, c, h, w)


def shifted_bilinear_filter(
    x: torch.Tensor, weights: torch.Tensor, offsets: torch.Tensor, kernel_size: int, max_offset: int = 2
) -> torch.Tensor:
    """Bilinear sampling written as integer shifts of a padded map plus gathers, for comparison."""
    n, c, h, w = x.shape
    groups, taps = weights.shape[1], weights.shape[2]
    r = kernel_size // 2
    pad = r + max_offset + 1
    padded = F.pad(x, [pad] * 4).flatten(2)  # (N, C, (H+2p)(W+2p))
    pw = w + 2 * pad
    off = offsets.view(n, taps, 2, h, w).clamp(-max_offset, max_offset)
    ys = torch.arange(h).view(1, h, 1)
    xs = torch.arange(w).view(1, 1, w)
    out = torch.zeros(n, groups, c // groups, h, w, dtype=x.dtype)
    for i in range(taps):
        py = ys + (i // kernel_size - r) + off[:, i, 0] + pad
        px = xs + (i % kernel_size - r) + off[:, i, 1] + pad
        y0, x0 = py.floor(), px.floor()
        fy, fx = py - y0, px - x0
        y0, x0 = y0.long(), x0.long()
        for dy, dx, cw in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
            idx = ((y0 + dy) * pw + (x0 + dx)).flatten(1).unsqueeze(1).expand(n, c, -1)
            val = padded.gather(2, idx).view(n, groups, c // groups, h, w)
            out.addcmul_(val, (weights[:, :, i] * cw.unsqueeze(1)).unsqueeze(2))
    return out.view(n, c, h, w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="1x32x256x256,1x64x128x128")
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    k, taps = 3, 9
    for shape in args.shapes.split(","):
        n, c, h, w = (int(v) for v in shape.split("x"))
        x = torch.rand(n, c, h, w)
        weights = torch.softmax(torch.randn(n, args.groups, taps, h, w), dim=2)
        offsets = torch.randn(n, 2 * taps, h, w) * 0.5
        zero = torch.zeros_like(offsets)
        with torch.inference_mode():
            ref = deformable_filter(x, weights, offsets, k)
            checks = {
                "per-tap grid_sample": per_tap_filter(x, weights, offsets, k),
                "shifts + gathers": shifted_bilinear_filter(x, weights, offsets, k),
            }
            for name, got in checks.items():
                print(f"{shape} {name}: max |diff| vs model {float((got - ref).abs().max()):.2e}")
            print(f"{shape} unfold (zero offsets) vs grid_sample (zero offsets): max |diff| "
                  f"{float((dynamic_filter(x, weights, k) - deformable_filter(x, weights, zero, k)).abs().max()):.2e}")
            runs = {
                "model grid_sample": lambda: deformable_filter(x, weights, offsets, k),
                "per-tap grid_sample": lambda: per_tap_filter(x, weights, offsets, k),
                "shifts + gathers": lambda: shifted_bilinear_filter(x, weights, offsets, k),
                "unfold, no offsets": lambda: dynamic_filter(x, weights, k),
                "grid_sample alone": lambda: F.grid_sample(
                    x, torch.zeros(n, taps * h, w, 2), mode="bilinear", align_corners=True),
            }
            times = alternate(runs, rounds=args.rounds)
        for name, t in times.items():
            print(f"  {name:22s} {1e3 * statistics.median(t):8.1f} ms  (min {1e3 * min(t):.1f})")


if __name__ == "__main__":
    main()
