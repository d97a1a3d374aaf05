"""Would windowed global attention (TLC-style) give whole frames the score of tiles? PSNR on pairs.

The network was trained on 256 px crops, and its global attention pools over the whole input, so a whole
720p frame scores about 0.04 dB below 512 px tiles (docs/performance.md). Here each pixel of a stage-1
attention instead pools over a window of `--window` image pixels around it (Chu et al., "Improving Image
Restoration by Revisiting Global Information Aggregation", ECCV 2022): exp-weighted sums over blocks of a
quarter window, summed over 4 x 4 blocks, descriptors interpolated between window positions. Patch groups
of the refinement stages keep global attention. The tool does not do this: it measured too little to pay
for the extra time (docs/performance.md, "Windowed attention").

    python benchmarks/windowed_attention.py ../shared/data/val/gopro/blur ../shared/data/val/gopro/sharp \\
        --window 512 --tile 0
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F

from deblur_cli.engine import Deblurrer
from deblur_cli.model.global_attention import GlobalAttention
from deblur_cli.model.recorder import Recorder
from deblur_cli.train.evaluate import evaluate

_global_forward = GlobalAttention.forward


def _window_positions(n: int, block: int, span: int, positions: int) -> torch.Tensor:
    """Each pixel's window start in blocks, clamped so the window stays inside, as grid_sample coordinates."""
    start = (torch.arange(n, dtype=torch.float32) + 0.5) / block - span / 2
    start = start.clamp(0, positions - 1)
    return start / (positions - 1) * 2 - 1 if positions > 1 else torch.zeros(n)


def windowed_forward(
    self: GlobalAttention,
    x: torch.Tensor,
    source: torch.Tensor | None = None,
    *,
    group: int = 1,
    source_group: int | None = None,
    recorder: Recorder | None = None,
) -> torch.Tensor:
    """GlobalAttention.forward, but pooling over a window around each pixel when the input outgrows it."""
    window = getattr(self, "window", 0)
    h, w = x.shape[2:]
    aligned = source is None or (source.shape[2:] == x.shape[2:] and (source_group or 1) == 1)
    if not window or group != 1 or not aligned or (h <= window and w <= window):
        return _global_forward(self, x, source, group=group, source_group=source_group, recorder=recorder)
    source = x if source is None else source
    block = max(window // 4, 1)
    keys = self.to_keys(source).float()
    weights = (keys - keys.amax(dim=(2, 3), keepdim=True)).exp()  # (B, M, h, w)
    values = self.to_values(source).float()
    pad = (0, (-w) % block, 0, (-h) % block)

    def block_sums(t: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(F.pad(t, pad), block) * block * block

    denominators = block_sums(weights)
    rows, cols = denominators.shape[2:]
    span_h = min(4, rows) if h > window else rows
    span_w = min(4, cols) if w > window else cols
    denominators = F.avg_pool2d(denominators, (span_h, span_w), stride=1)
    grid_h, grid_w = denominators.shape[2:]
    gy = _window_positions(h, block, span_h, grid_h).to(x.device)
    gx = _window_positions(w, block, span_w, grid_w).to(x.device)
    grid = torch.stack(torch.broadcast_tensors(gx[None, :], gy[:, None]), dim=-1)
    grid = grid[None].expand(x.shape[0], h, w, 2)
    queries = torch.softmax(self.to_queries(x).float(), dim=1)
    out = torch.zeros_like(values)
    for m in range(weights.shape[1]):  # one map at a time: all at once would hold M x C channels at full size
        numerators = F.avg_pool2d(block_sums(weights[:, m : m + 1] * values), (span_h, span_w), stride=1)
        descriptors = numerators / denominators[:, m : m + 1].clamp_min(1e-30)
        out += queries[:, m : m + 1] * F.grid_sample(descriptors, grid, align_corners=True)
    return self.proj(out.to(x.dtype))


def set_window(model: torch.nn.Module, width: int, window: int) -> None:
    """Give every attention its window in its own pixels: a module with width x 2^s channels runs at 1/2^s."""
    for module in model.modules():
        if isinstance(module, GlobalAttention):
            scale = round(math.log2(module.to_values.out_channels / width))
            module.window = window >> scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("blur_dir")
    parser.add_argument("sharp_dir")
    parser.add_argument("--window", type=int, default=512, help="window in image pixels (0 = global)")
    parser.add_argument("--tile", type=int, default=0, help="tile size (0 = whole frames)")
    parser.add_argument("--budget", type=float, help="refinement budget (default: the preset's)")
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--weights", help="weights folder or file (default: the preset's own)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    GlobalAttention.forward = windowed_forward
    engine = Deblurrer.from_pretrained(
        args.preset, weights=args.weights, device=args.device, tile=args.tile, budget=args.budget
    )
    set_window(engine.model, engine.model.config.width, args.window)
    start = time.perf_counter()
    report = evaluate(
        engine, args.blur_dir, args.sharp_dir, on_pair=lambda s, i, n: print(f"{s.name}  {s.psnr:.3f} dB")
    )
    seconds = (time.perf_counter() - start) / len(report.pairs)
    print(
        f"window {args.window} tile {args.tile}: {report.mean('psnr'):.3f} dB / {report.mean('ssim'):.4f}, "
        f"{seconds:.2f} s per image"
    )


if __name__ == "__main__":
    main()
