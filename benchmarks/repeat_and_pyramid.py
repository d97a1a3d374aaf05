"""Would running the network again, or at half scale first, help on long real blur? PSNR of each variant.

The network restores short blur well and long blur (GoPro sequence GOPR0374, about 40 px) barely. Two cheap
ways to stretch it at inference, without training:

- **twice**: restore the restored image again;
- **half**: restore a half-size copy (area downscale, so a 40 px blur becomes 20 px), and add its residual,
  upscaled bilinearly, to the full-size input; **half, then full**: restore that once more at full size.

The tool offers neither: both measured worse than one pass (docs/performance.md).

    python benchmarks/repeat_and_pyramid.py ../shared/data/val/gopro/blur ../shared/data/val/gopro/sharp
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from deblur_cli.engine import Deblurrer
from deblur_cli.io import read_image
from deblur_cli.train.datasets import find_pairs
from deblur_cli.train.evaluate import unit_rgb
from deblur_cli.train.metrics import psnr


def half_scale_residual(engine: Deblurrer, image: np.ndarray) -> np.ndarray:
    """`image` plus the residual the network gives at half size, upscaled back (float32 RGB in [0, 1])."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    residual = engine.restore(small) - small
    return np.clip(image + cv2.resize(residual, (width, height), interpolation=cv2.INTER_LINEAR), 0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("blur_dir")
    parser.add_argument("sharp_dir")
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--weights", help="weights folder or file (default: the preset's own)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--budget", type=float, help="refinement budget (default: the preset's)")
    args = parser.parse_args()

    engine = Deblurrer.from_pretrained(args.preset, weights=args.weights, device=args.device,
                                       budget=args.budget)

    def restore(image: np.ndarray) -> np.ndarray:
        return np.clip(engine.restore(image), 0, 1)

    names = ("input", "once", "twice", "half", "half, then full")
    scores: dict[str, list[float]] = {name: [] for name in names}
    for blur_path, sharp_path in find_pairs(args.blur_dir, args.sharp_dir):
        blurred = unit_rgb(read_image(blur_path).pixels)
        sharp = unit_rgb(read_image(sharp_path).pixels)
        once = restore(blurred)
        half = half_scale_residual(engine, blurred)
        variants = {"input": blurred, "once": once, "twice": restore(once), "half": half,
                    "half, then full": restore(half)}
        for name, image in variants.items():
            scores[name].append(psnr(image, sharp))
        print(blur_path.name, "  ".join(f"{name} {scores[name][-1]:.2f}" for name in names), flush=True)
    for name in names:
        print(f"{name:>16}: {np.mean(scores[name]):.3f} dB mean PSNR over {len(scores[name])} pairs")


if __name__ == "__main__":
    main()
