"""Would a geometric self-ensemble pay? PSNR when averaging the outputs of flipped and transposed inputs.

Each blurred image is restored as it is and in up to 7 flipped/transposed copies (motion blur stays motion
blur under these), each output is turned back, and the first 1, 2, 4 and 8 are averaged. The tool does not
offer this: it multiplies the time by the number of copies, and measured too little to pay for it.

    python benchmarks/self_ensemble.py ../shared/data/val/gopro/blur ../shared/data/val/gopro/sharp
"""

from __future__ import annotations

import argparse

import numpy as np

from deblur_cli.engine import Deblurrer
from deblur_cli.io import read_image
from deblur_cli.train.datasets import find_pairs
from deblur_cli.train.evaluate import unit_rgb
from deblur_cli.train.metrics import psnr

SYMMETRIES = [(transpose, flips) for transpose in (False, True) for flips in range(4)]
"""The 8 symmetries of the square as (transpose first, flip code): identity, flips, then transposes."""


def _flip(a: np.ndarray, code: int) -> np.ndarray:
    """Bit 0: left-right flip, bit 1: upside down (each its own inverse)."""
    if code & 1:
        a = a[:, ::-1]
    if code & 2:
        a = a[::-1]
    return a


def forward(a: np.ndarray, transpose: bool, code: int) -> np.ndarray:
    """An H x W x C image under one symmetry."""
    return _flip(a.swapaxes(0, 1) if transpose else a, code)


def inverse(a: np.ndarray, transpose: bool, code: int) -> np.ndarray:
    """Undo `forward`."""
    a = _flip(a, code)
    return a.swapaxes(0, 1) if transpose else a


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("blur_dir")
    parser.add_argument("sharp_dir")
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--weights", help="weights folder or file (default: the preset's own)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    engine = Deblurrer.from_pretrained(args.preset, weights=args.weights, device=args.device)
    sizes = (1, 2, 4, 8)
    scores: dict[int, list[float]] = {k: [] for k in sizes}
    for blur_path, sharp_path in find_pairs(args.blur_dir, args.sharp_dir):
        blurred = read_image(blur_path).pixels
        sharp = unit_rgb(read_image(sharp_path).pixels)
        outputs = []
        for transpose, code in SYMMETRIES:
            restored = engine.restore(np.ascontiguousarray(forward(blurred, transpose, code)))
            outputs.append(inverse(unit_rgb(restored), transpose, code))
        for k in sizes:
            scores[k].append(float(psnr(np.mean(outputs[:k], axis=0), sharp)))
        print(blur_path.name, "  ".join(f"x{k} {scores[k][-1]:.3f}" for k in sizes), flush=True)
    print("mean PSNR dB:", "  ".join(f"x{k} {np.mean(scores[k]):.3f}" for k in sizes))


if __name__ == "__main__":
    main()
