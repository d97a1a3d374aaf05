"""What does `--budget` buy? PSNR/SSIM and time per image at several budgets, on pairs of blurred and sharp
images.

Budget 0 runs stage 1 (and the policies) only, so the gap between it and a budget is what the refinement
stages add at those weights; time per image shows what they cost. Each budget is one full `deblur eval`
through the same engine as `deblur run`; run it on a quiet machine for the seconds to mean anything.

    python benchmarks/budget_sweep.py runs/heldout/blur runs/heldout/sharp --budgets 0,0.3   # saphnet-b's
    python benchmarks/budget_sweep.py ../shared/data/val/gopro-test/blur \\
        ../shared/data/val/gopro-test/sharp -m saphnet-s --tile 0 --json sweep.json
"""

from __future__ import annotations

import argparse

import common

from deblur_cli.train.evaluate import evaluate


def parse_budgets(text: str) -> list[float]:
    """'0,0.25,1' -> [0.0, 0.25, 1.0]; each in [0, 1]."""
    budgets = [float(part) for part in text.split(",") if part.strip()]
    if not budgets or any(not 0.0 <= b <= 1.0 for b in budgets):
        raise argparse.ArgumentTypeError(f"budgets must be numbers in [0, 1], got {text!r}")
    return budgets


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("blur_dir")
    parser.add_argument("sharp_dir")
    parser.add_argument("--budgets", type=parse_budgets, default=parse_budgets("0,0.1,0.25,0.5,0.75,1"),
                        help="first refinement stage's fractions, comma-separated (later stages scale)")
    parser.add_argument("--tile", type=int, default=None, metavar="N",
                        help="tile size in pixels, 0 for whole images (default: auto, as `deblur eval`)")
    common.add_model(parser)
    common.add_device(parser)
    common.add_json(parser, "every pair's scores")
    args = parser.parse_args()
    tile = "auto" if args.tile is None else args.tile

    rows = {}
    print(f"{'budget':>22}  {'PSNR dB':>8}  {'SSIM':>6}  {'better':>6}  {'s/image':>7}")
    for budget in args.budgets:
        engine = common.load_engine(args, budget=budget, tile=tile)
        report = evaluate(engine, args.blur_dir, args.sharp_dir)
        better = sum(p.psnr > p.input_psnr for p in report.pairs)
        fractions = ", ".join(f"{f:g}" for f in engine.fractions)
        print(f"{fractions:>22}  {report.mean('psnr'):8.3f}  {report.mean('ssim'):6.4f}  "
              f"{better:>3}/{len(report.pairs):<2}  {report.mean('seconds'):7.2f}")
        rows[str(budget)] = report.to_dict()
    print(f"{'input':>22}  {report.mean('input_psnr'):8.3f}  {report.mean('input_ssim'):6.4f}")
    preset = engine.descriptor.default_budget
    print(f"{args.weights or args.model} on {engine.device}; the preset's budget is {preset}")
    common.write_json(args.json, {"weights": args.weights or args.model, "device": str(engine.device),
                                  "budgets": rows})


if __name__ == "__main__":
    main()
