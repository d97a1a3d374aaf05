"""Score several weights (a run's snapshots, say) on the same pair sets, one table row each: the numbers a
shipping decision needs: mean PSNR / SSIM, pairs better than their input, and the worst pair's change.

    python benchmarks/make_heldout_set.py --data ../shared/data --out runs/heldout
    python scripts/score_weights.py out/snapshots/step-* weights/saphnet-s \\
        --set ../shared/data/val/gopro --set runs/heldout

Each set is a folder with blur/ and sharp/ (same relative paths), scored by `deblur eval`'s code on full
frames, tile auto, on the CPU unless --device says otherwise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deblur_cli import Deblurrer
from deblur_cli.train.evaluate import EvalReport, evaluate


def row_cell(report: EvalReport) -> str:
    """Mean PSNR / SSIM, pairs better than their input, and the worst pair's PSNR change against its input."""
    changes = [p.psnr - p.input_psnr for p in report.pairs]
    better = sum(c > 0 for c in changes)
    return (f"{report.mean('psnr'):.3f} / {report.mean('ssim'):.4f} ({better} of {len(changes)}, "
            f"worst {min(changes):+.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="+", type=Path, help="weights folders or .safetensors files")
    parser.add_argument("--set", dest="sets", action="append", type=Path, required=True,
                        help="a folder with blur/ and sharp/ (repeatable)")
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write every per-pair score here")
    args = parser.parse_args()
    rows = {}
    for weights in args.weights:
        deblurrer = Deblurrer.from_pretrained(args.preset, weights=str(weights), device=args.device)
        reports = {str(s): evaluate(deblurrer, s / "blur", s / "sharp") for s in args.sets}
        if not rows:  # the inputs' scores, the same for every row
            inputs = [f"{r.mean('input_psnr'):.3f} / {r.mean('input_ssim'):.4f}" for r in reports.values()]
            print("input | " + " | ".join(inputs), flush=True)
        rows[str(weights)] = reports
        print(f"{weights} | " + " | ".join(row_cell(r) for r in reports.values()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(
            {w: {s: r.to_dict() for s, r in by_set.items()} for w, by_set in rows.items()}, indent=1
        ))


if __name__ == "__main__":
    main()
