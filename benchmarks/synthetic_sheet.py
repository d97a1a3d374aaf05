"""A contact sheet of synthetic blurred/sharp pairs beside real GoPro pairs, to judge the synthesis by eye.

Synthetic pairs go through the training pipeline itself (SharpFolderDataset: rescale, crop, synthesise,
trim the margin); real pairs are native-resolution crops of val/gopro, placed where the sharp frame has
the most texture. Run from the repository root:

    python benchmarks/synthetic_sheet.py --data ../shared/data --out docs/images/synthetic_sheet.jpg
"""

from __future__ import annotations

from pathlib import Path

import common
import cv2
import numpy as np

from deblur_cli.train.datasets import PairedFolderDataset, SharpFolderDataset, read_rgb

TILE = 256
PHOTOS = ["kodim05.png", "kodim13.png", "kodim23.png", "img_004.png", "img_061.png", "0830.png",
          "val_101085.jpg", "val_42049.jpg"]  # fmt: skip
REAL = ["GOPR0374_11_00_st_frame-815_n_avg-10", "GOPR0384_11_02_st_frame-698_n_avg-8",
        "GOPR0477_11_00_st_frame-171_n_avg-8"]  # fmt: skip


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = np.ascontiguousarray(tile)
    cv2.rectangle(tile, (0, 0), (TILE, 18), (0, 0, 0), thickness=-1)
    cv2.putText(tile, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def _u8(t: object) -> np.ndarray:
    return np.round(t.permute(1, 2, 0).numpy() * 255).clip(0, 255).astype(np.uint8)  # type: ignore[attr-defined]


def _textured_crop(blurred: np.ndarray, sharp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gray = cv2.cvtColor(sharp, cv2.COLOR_RGB2GRAY).astype(np.float32)
    energy = np.abs(cv2.Laplacian(gray, cv2.CV_32F))
    h, w = gray.shape
    best, box = -1.0, (0, 0)
    for y in range(0, h - TILE + 1, 32):
        for x in range(0, w - TILE + 1, 32):
            e = float(energy[y : y + TILE, x : x + TILE].mean())
            if e > best:
                best, box = e, (y, x)
    y, x = box
    return blurred[y : y + TILE, x : x + TILE], sharp[y : y + TILE, x : x + TILE]


def main() -> None:
    parser = common.parser(__doc__)
    common.add_data(parser)
    parser.add_argument("--out", type=Path, default=Path("docs/images/synthetic_sheet.jpg"))
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--quality", type=int, default=82)
    args = parser.parse_args()

    synthetic = SharpFolderDataset(
        args.data / "sharp", crop=TILE, length=len(PHOTOS), seed=args.seed, augment=False, include=PHOTOS
    )
    rows = []
    for i, path in enumerate(synthetic.files):
        item = synthetic[i]
        name = path.stem
        rows.append(
            [
                _label(_u8(item["blurred"]), f"synthetic blurred ({name})"),
                _label(_u8(item["sharp"]), "target"),
            ]
        )

    real = PairedFolderDataset(args.data / "val" / "gopro" / "blur", args.data / "val" / "gopro" / "sharp")
    for blur_path, sharp_path in real.pairs:
        if blur_path.stem not in REAL:
            continue
        blurred, sharp = _textured_crop(read_rgb(blur_path), read_rgb(sharp_path))
        seq, rest = blur_path.stem.split("_st_frame-")
        short = f"{seq[4:8]} #{rest.replace('_n_avg-', ' n=')}"
        rows.append([_label(blurred, f"REAL GoPro blurred {short}"), _label(sharp, "REAL sharp")])

    pairs = [np.concatenate(r, axis=1) for r in rows]
    gap = np.full((TILE, 8, 3), 255, dtype=np.uint8)
    lines = []
    for k in range(0, len(pairs), 2):
        line = pairs[k : k + 2]
        if len(line) == 1:
            line.append(np.full_like(line[0], 255))
        lines.append(np.concatenate([line[0], gap, line[1]], axis=1))
    spacer = np.full((8, lines[0].shape[1], 3), 255, dtype=np.uint8)
    sheet = np.concatenate([x for line in lines for x in (line, spacer)][:-1], axis=0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(
        str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, args.quality]
    )
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]}, {args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
