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

from deblur_cli.engine import Deblurrer
from deblur_cli.train.evaluate import EvalReport, evaluate


def summary(report: EvalReport) -> dict[str, float]:
    """Mean scores, how many pairs beat their input, and the worst pair's PSNR change against its input."""
    changes = [p.psnr - p.input_psnr for p in report.pairs]
    return {
        "psnr": report.mean("psnr"),
        "ssim": report.mean("ssim"),
        "better": sum(c > 0 for c in changes),
        "pairs": len(changes),
        "worst_change": min(changes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="+", type=Path, help="weights folders or .safetensors files")
    parser.add_argument("--set", dest="sets", action="append", type=Path, required=True,
                        help="a folder with blur/ and sharp/ (repeatable)")
    parser.add_argument("--model", default="saphnet-s")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write every per-pair score here")
    args = parser.parse_args()
    rows = {}
    for weights in args.weights:
        deblurrer = Deblurrer.from_pretrained(args.model, weights=str(weights), device=args.device)
        reports = {str(s): evaluate(deblurrer, s / "blur", s / "sharp") for s in args.sets}
        if not rows:  # the inputs' scores, the same for every row
            inputs = [f"{r.mean('input_psnr'):.3f} / {r.mean('input_ssim'):.4f}" for r in reports.values()]
            print("input | " + " | ".join(inputs), flush=True)
        rows[str(weights)] = reports
        cells = []
        for report in reports.values():
            s = summary(report)
            cells.append(f"{s['psnr']:.3f} / {s['ssim']:.4f} ({s['better']} of {s['pairs']}, "
                         f"worst {s['worst_change']:+.2f})")
        print(f"{weights} | " + " | ".join(cells), flush=True)
    if args.json:
        args.json.write_text(json.dumps(
            {w: {s: r.to_dict() for s, r in reports.items()} for w, reports in rows.items()}, indent=1
        ))


if __name__ == "__main__":
    main()
