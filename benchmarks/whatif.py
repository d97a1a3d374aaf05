"""What-if timings for SAPHNet on CPU: the model as it is against prototype changes applied in this
process only (deblur_cli/model/ is not edited), with DMPHN 1-2-4 alongside; runs alternate, medians.

Prototype (checked to give the same output as the model before timing; the pixel-major attention that
was prototyped here too is now the model's own, see docs/performance.md):
- `cached grid`: the deformable filter's sampling grid built as a cached base grid + scaled offsets in one
  fused op, instead of meshgrid/arange/stack on every call.

    python benchmarks/whatif.py --preset saphnet-s --size 512 --rounds 3
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics

import torch
import torch.nn.functional as F

from deblur_cli.bench import alternate, load_reference
from deblur_cli.model import create_model, pixel_filter


@functools.lru_cache(maxsize=64)
def _base_grid(h: int, w: int, k: int, dtype: torch.dtype, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    r = k // 2
    taps = torch.arange(-r, r + 1, dtype=dtype, device=device)
    gy = torch.arange(h, dtype=dtype, device=device).view(1, h, 1) + taps.repeat_interleave(k).view(-1, 1, 1)
    gx = torch.arange(w, dtype=dtype, device=device).view(1, 1, w) + taps.repeat(k).view(-1, 1, 1)
    sy, sx = 2.0 / max(h - 1, 1), 2.0 / max(w - 1, 1)
    base = torch.stack([(gx * sx - 1.0).expand(k * k, h, w), (gy * sy - 1.0).expand(k * k, h, w)], dim=-1)
    return base.unsqueeze(0), torch.tensor([sx, sy], dtype=dtype, device=device)


def cached_grid_filter(
    x: torch.Tensor, weights: torch.Tensor, offsets: torch.Tensor, kernel_size: int
) -> torch.Tensor:
    """The model's deformable_filter with the grid built as base + offsets * scale (one fused op)."""
    n, c, h, w = x.shape
    groups, taps = weights.shape[1], weights.shape[2]
    base, scale = _base_grid(h, w, kernel_size, x.dtype, str(x.device))
    off = offsets.view(n, taps, 2, h, w).flip(2).permute(0, 1, 3, 4, 2)  # (dx, dy) last
    grid = torch.addcmul(base, off, scale).view(n, taps * h, w, 2)
    sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    sampled = sampled.view(n, groups, c // groups, taps, h, w)
    return (sampled * weights.unsqueeze(2)).sum(dim=3).view(n, c, h, w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    net = create_model(args.preset).eval()
    with torch.no_grad():  # random non-zero weights everywhere (zero-initialised heads would hide errors)
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    net_cl = create_model(args.preset).eval()
    net_cl.load_state_dict(net.state_dict())
    net_cl = net_cl.to(memory_format=torch.channels_last)
    dmphn = load_reference("dmphn")
    dmphn_cl = load_reference("dmphn")
    dmphn_cl.load_state_dict(dmphn.state_dict())
    dmphn_cl = dmphn_cl.to(memory_format=torch.channels_last)
    x = torch.rand(1, 3, args.size, args.size)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    original_filter = pixel_filter.deformable_filter

    def with_cached_grid(fn):
        def run():
            pixel_filter.deformable_filter = cached_grid_filter
            try:
                return fn()
            finally:
                pixel_filter.deformable_filter = original_filter

        return run

    zero_budget = (0.0,) * net.config.refinement_stages
    runs = {
        "dmphn NCHW": lambda: dmphn(x),
        "dmphn channels_last": lambda: dmphn_cl(x_cl),
        f"{args.preset} as is": lambda: net(x).image,
        f"{args.preset} cached grid": with_cached_grid(lambda: net(x).image),
        f"{args.preset} channels_last": lambda: net_cl(x_cl).image,
        f"{args.preset} channels_last + cached grid": with_cached_grid(lambda: net_cl(x_cl).image),
        f"{args.preset} stage 1 only (budget 0)": lambda: net(x, budget=zero_budget).image,
    }
    with torch.inference_mode():
        reference = net(x).image
        for name in list(runs)[3:6]:
            diff = float((runs[name]() - reference).abs().max())
            print(f"{name}: max |diff| vs the model as is {diff:.2e}")
        times = alternate(runs, rounds=args.rounds)
    base = statistics.median(times["dmphn NCHW"])
    base_cl = statistics.median(times["dmphn channels_last"])
    print(f"\n{args.size}x{args.size}, {torch.get_num_threads()} threads, {args.rounds} rounds (medians):")
    for name, t in times.items():
        m = statistics.median(t)
        print(f"  {name:52s} {m:7.2f} s   / dmphn NCHW {m / base:5.2f}   / dmphn CL {m / base_cl:5.2f}")


if __name__ == "__main__":
    main()
