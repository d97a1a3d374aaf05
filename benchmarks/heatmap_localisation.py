"""Does the sampling heatmap find the blur? Sharp frames made motion-blurred on their right half only.

Each sharp frame keeps its left half and gets a linear motion blur (21 px at 30 degrees by default) on its
right half; the network restores it at `--budget` and the script prints, per refinement stage, the mean P_s
on each half, their ratio, and the share of the stage's chosen cells that lie on the blurred half.

A policy that finds the blur puts more of P_s, and more than half of the chosen cells, on the blurred half.

    python benchmarks/heatmap_localisation.py ../shared/data/val/gopro-test/sharp -m saphnet-b --budget 0.25
"""

from __future__ import annotations

from pathlib import Path

import common
import cv2
import numpy as np

from deblur_cli.io import read_image


def motion_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised line of `length` pixels at `angle` degrees (counter-clockwise from horizontal)."""
    size = length | 1
    kernel = np.zeros((size, size), np.float32)
    c, r = size // 2, (length - 1) / 2
    dx, dy = r * np.cos(np.radians(angle)), -r * np.sin(np.radians(angle))
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    return kernel / kernel.sum()


def half_blurred(sharp: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """`sharp` with its right half convolved by `kernel` (the whole frame is filtered, then cut)."""
    blurred = cv2.filter2D(sharp.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT)
    out = sharp.astype(np.float32).copy()
    half = sharp.shape[1] // 2
    out[:, half:] = blurred[:, half:]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("sharp_dir", type=Path)
    parser.add_argument("--budget", type=float, default=0.25, help="the first refinement stage's fraction")
    parser.add_argument("--length", type=int, default=21, help="motion blur length in pixels")
    parser.add_argument("--angle", type=float, default=30.0, help="motion blur angle in degrees")
    parser.add_argument(
        "--tile", type=int, default=0,
        help="engine tile in pixels (default 0: the whole frame; each tile refines its own top K cells, so "
             "a tile wholly on the sharp half still spends its share there)",
    )
    common.add_model(parser)
    common.add_device(parser)
    common.add_json(parser, "every frame's figures")
    args = parser.parse_args()

    deblurrer = common.load_engine(args, budget=args.budget, tile=args.tile)
    kernel = motion_kernel(args.length, args.angle)
    rows = []
    for path in sorted(args.sharp_dir.glob("*.png")):
        pixels = half_blurred(read_image(path).pixels, kernel)
        _, maps = deblurrer.restore_with_maps(pixels)
        half = maps.difficulty.shape[2] // 2  # cells wholly on one side; an odd middle column goes right
        for stage, (difficulty, chosen) in enumerate(zip(maps.difficulty, maps.chosen, strict=True), start=2):
            sharp_p, blurred_p = float(difficulty[:, :half].mean()), float(difficulty[:, half:].mean())
            rows.append({
                "frame": path.name, "stage": stage, "p_sharp": sharp_p, "p_blurred": blurred_p,
                "ratio": blurred_p / max(sharp_p, 1e-9),
                "chosen_on_blurred": float(chosen[:, half:].sum() / max(chosen.sum(), 1)),
            })
            row = rows[-1]
            print(f"{path.name} stage {stage}: P_s sharp {sharp_p:.3f} blurred {blurred_p:.3f} "
                  f"(x{row['ratio']:.2f}), chosen cells on the blurred half {row['chosen_on_blurred']:.0%}")
    for stage in sorted({r["stage"] for r in rows}):
        mean = {key: np.mean([r[key] for r in rows if r["stage"] == stage])
                for key in ("p_sharp", "p_blurred", "ratio", "chosen_on_blurred")}
        print(f"mean, stage {stage}: P_s sharp {mean['p_sharp']:.3f} blurred {mean['p_blurred']:.3f} "
              f"(x{mean['ratio']:.2f}), chosen on the blurred half {mean['chosen_on_blurred']:.0%}")
    common.write_json(args.json, rows)


if __name__ == "__main__":
    main()
