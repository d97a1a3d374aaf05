"""Write the held-out synthetic evaluation set: BSDS500 `val_*` photos (never used for training: the
trainer excludes them) blurred by the project's synthesiser with a fixed seed, as `blur/` + `sharp/` folders
that `deblur eval` reads.

    python benchmarks/make_heldout_set.py --data ../shared/data --out runs/heldout --count 24
    deblur eval runs/heldout/blur runs/heldout/sharp --tile 0 -m saphnet-b
"""

from __future__ import annotations

from pathlib import Path

import common
import numpy as np

from deblur_cli.io import write_image
from deblur_cli.train.datasets import make_validation_set


def main() -> None:
    parser = common.parser(__doc__)
    common.add_data(parser)
    parser.add_argument("--out", type=Path, default=Path("runs/heldout"))
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--crop", type=int, default=256)
    args = parser.parse_args()
    pairs = make_validation_set(
        args.data / "sharp" / "bsds500", count=args.count, crop=args.crop, include=["val_*"]
    )
    for i, (blurred, sharp) in enumerate(pairs):
        for folder, image in (("blur", blurred), ("sharp", sharp)):
            pixels = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
            write_image(args.out / folder / f"{i:03d}.png", pixels, overwrite=True)


if __name__ == "__main__":
    main()
