"""Calibrate the sampling policies of exported weights (deblur_cli.train.calibration) and save a copy.

The calibration crops are the trainer's own: 32 crops of 256 px drawn (seeded) from the sharp photos
without `val_*` and the GoPro-recipe frames, so a rerun on the same data and weights gives the same file.

    python scripts/calibrate_policy.py runs/s/export weights/saphnet-s --data ../shared/data --card CARD.md
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from deblur_cli import Deblurrer
from deblur_cli.train.calibration import calibrate_policies
from deblur_cli.train.trainer import TrainConfig, build_dataset
from deblur_cli.weights import save_pretrained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="weights folder to calibrate")
    parser.add_argument("dest", help="folder to write the calibrated weights to")
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--data", default="../shared/data", help="the shared data folder")
    parser.add_argument("--card", help="model card for dest (default: source's README.md, if any)")
    parser.add_argument("--crops", type=int, default=32)
    args = parser.parse_args()

    engine = Deblurrer.from_pretrained(args.preset, weights=args.source, device="cpu", tile=0)
    model = engine.model.float().eval()
    sharp = [f"{args.data}/sharp/{name}" for name in ("bsds500", "kodak24", "urban100", "div2k")]
    cfg = TrainConfig(sharp_dirs=sharp, sharp_exclude=["val_*"], frame_dirs=[f"{args.data}/frames"], crop=256,
                      seed=123)
    dataset = build_dataset(cfg, samples_per_source=64)
    picks = np.random.default_rng(0).choice(len(dataset), args.crops, replace=False)
    crops = (dataset[int(i)]["blurred"][None].float().contiguous() for i in picks)
    report = calibrate_policies(model, crops)
    print(json.dumps({f"stage {s + 2}": asdict(stage) for s, stage in enumerate(report)}))

    card_path = Path(args.card) if args.card else Path(args.source) / "README.md"
    card = card_path.read_text() if card_path.is_file() else None
    print(save_pretrained(model, args.dest, preset=args.preset, card=card))


if __name__ == "__main__":
    main()
