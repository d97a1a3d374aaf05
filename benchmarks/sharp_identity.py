"""How much does deblurring change a photo that is already sharp? Ideally not at all.

Each photo is restored as it is, and the output is scored against the input (PSNR, higher = less changed):
a network that sharpens or rings on clean edges scores lower. `deblur eval` cannot show this, since its
pairs are all blurred. Compare weights by passing several:

    python benchmarks/sharp_identity.py runs/heldout/sharp --weights weights/saphnet-s --weights OTHER
"""

from __future__ import annotations

import argparse
import statistics

from deblur_cli.engine import Deblurrer
from deblur_cli.io import read_image
from deblur_cli.train.datasets import list_images
from deblur_cli.train.evaluate import unit_rgb
from deblur_cli.train.metrics import psnr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sharp_dir")
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--weights", action="append", help="weights folder; repeatable (default: shipped)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    photos = list_images([args.sharp_dir])
    for weights in args.weights or [None]:
        engine = Deblurrer.from_pretrained(args.preset, weights=weights, device=args.device)
        scores = []
        for path in photos:
            pixels = read_image(path).pixels
            scores.append(float(psnr(unit_rgb(engine.restore(pixels)), unit_rgb(pixels))))
        print(f"{weights or args.preset}: {len(scores)} photos, output vs input PSNR mean "
              f"{statistics.fmean(scores):.2f} dB, lowest {min(scores):.2f} dB")


if __name__ == "__main__":
    main()
