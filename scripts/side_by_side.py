"""Crop the same window out of several images and join them side by side into one JPEG (README figures).

    python scripts/side_by_side.py blurred.png deblurred.png heatmap.png -o figure.jpg --box 380 20 780 320
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image


def side_by_side(paths: list[Path], box: tuple[int, int, int, int] | None, gap: int) -> Image.Image:
    """The `box` (left, top, right, bottom) of each image, joined left to right with `gap` white pixels
    between (`deblur heatmap` draws its panel at the photo's scale from the top left, so one box fits all)."""
    crops = []
    for path in paths:
        image = Image.open(path).convert("RGB")
        crops.append(image.crop(box) if box else image)
    width = sum(c.width for c in crops) + gap * (len(crops) - 1)
    out = Image.new("RGB", (width, crops[0].height), "white")
    x = 0
    for crop in crops:
        out.paste(crop, (x, 0))
        x += crop.width + gap
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--box", type=int, nargs=4, metavar=("LEFT", "TOP", "RIGHT", "BOTTOM"))
    parser.add_argument("--gap", type=int, default=4)
    parser.add_argument("--quality", type=int, default=92)
    args = parser.parse_args()
    figure = side_by_side(args.images, tuple(args.box) if args.box else None, args.gap)
    figure.save(args.output, quality=args.quality)


if __name__ == "__main__":
    main()
