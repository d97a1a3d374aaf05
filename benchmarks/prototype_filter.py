"""Prototype implementations of the CAPM's pixel-dependent (deformable) filter, timed against the model's.

Both compute out(p) = sum_i w_{p,i} F(p + p_i + d_{p,i}) with bilinear sampling and zero padding (the
model's `deformable_filter`), checked against it before timing; the unfold path (no offsets) and a bare
grid_sample show the floor. Runs alternate, medians shown.

    python benchmarks/prototype_filter.py --shapes 1x32x256x256,1x64x128x128 --rounds 7
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics

import torch
import torch.nn.functional as F
from whatif import cached_grid_filter  # benchmarks/ is on sys.path when run as a script

from deblur_cli.bench import alternate
from deblur_cli.model.pixel_filter import deformable_filter, dynamic_filter


def per_tap_filter(
    x: torch.Tensor, weights: torch.Tensor, offsets: torch.Tensor, kernel_size: int
) -> torch.Tensor:
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
            diff = float((per_tap_filter(x, weights, offsets, k) - ref).abs().max())
            print(f"{shape} per-tap grid_sample: max |diff| vs model {diff:.2e}")
            diff = float((cached_grid_filter(x, weights, offsets, k) - ref).abs().max())
            print(f"{shape} cached grid: max |diff| vs model {diff:.2e}")
            diff = float((dynamic_filter(x, weights, k) - deformable_filter(x, weights, zero, k)).abs().max())
            print(f"{shape} unfold vs grid_sample, zero offsets: max |diff| {diff:.2e}")
            zero_grid = torch.zeros(n, taps * h, w, 2)
            runs = {
                "model grid_sample": functools.partial(deformable_filter, x, weights, offsets, k),
                "cached grid": functools.partial(cached_grid_filter, x, weights, offsets, k),
                "per-tap grid_sample": functools.partial(per_tap_filter, x, weights, offsets, k),
                "unfold, no offsets": functools.partial(dynamic_filter, x, weights, k),
                "grid_sample alone": functools.partial(
                    F.grid_sample, x, zero_grid, mode="bilinear", align_corners=True),
            }
            times = alternate(runs, rounds=args.rounds)
        for name, t in times.items():
            print(f"  {name:22s} {1e3 * statistics.median(t):8.1f} ms  (min {1e3 * min(t):.1f})")


if __name__ == "__main__":
    main()
