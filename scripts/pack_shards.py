"""Split the training data into shards that each fit one GPU call's carry, so that successive calls of a
run see all of it (`bash scripts/gpu_train.sh pack-shards`, then `use K` before call K).

Shard k gets the k-th of N equal blocks of the raw frames (consecutive, so the GoPro recipe keeps its
windows; a block may span a gap in the numbering, which the dataset respects) and every N-th photo of
each `sharp/` source (BSDS500 `val_*` left out: the held-out set). PNG photos are re-encoded as JPEG q95
to fit; JPEG files are copied as they are. Also writes `val/`: the first VAL_COUNT BSDS500 `val_*` photos,
the in-run synthetic validation set (the same photos as `benchmarks/make_heldout_set.py` uses).

    python scripts/pack_shards.py ../shared/data carry-shards --shards 3
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import cv2

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _put_photo(src: Path, dst_dir: Path, prefix: str) -> None:
    """Copy a JPEG; re-encode anything else as JPEG q95, as run 5 did for Kodak24 (a quarter to a third of
    the PNG's size on Kodak24, Urban100 and DIV2K)."""
    if src.suffix.lower() in {".jpg", ".jpeg"}:
        shutil.copyfile(src, dst_dir / f"{prefix}{src.name}")
        return
    image = cv2.imread(str(src), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {src}")
    cv2.imwrite(str(dst_dir / f"{prefix}{src.stem}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])


def pack(data: Path, out: Path, shards: int, val_count: int) -> list[int]:
    """Write `out/<k>/{frames,sharp}` for k < shards and `out/val`; returns each shard's size in bytes."""
    if out.exists():
        shutil.rmtree(out)
    for k in range(shards):
        (out / str(k) / "sharp").mkdir(parents=True)
    for sequence in sorted(p for p in (data / "frames").iterdir() if p.is_dir()):
        frames = _images(sequence)
        for k in range(shards):
            block = frames[k * len(frames) // shards : (k + 1) * len(frames) // shards]
            target = out / str(k) / "frames" / sequence.name
            target.mkdir(parents=True)
            for frame in block:
                shutil.copyfile(frame, target / frame.name)
    for source in sorted(p for p in (data / "sharp").iterdir() if p.is_dir()):
        photos = [p for p in _images(source) if not (source.name == "bsds500" and p.name.startswith("val_"))]
        for i, photo in enumerate(photos):
            _put_photo(photo, out / str(i % shards) / "sharp", f"{source.name}_")
    (out / "val").mkdir()
    for photo in [p for p in _images(data / "sharp" / "bsds500") if p.name.startswith("val_")][:val_count]:
        shutil.copyfile(photo, out / "val" / photo.name)
    return [sum(f.stat().st_size for f in (out / str(k)).rglob("*") if f.is_file()) for k in range(shards)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (frames/, sharp/)")
    parser.add_argument("out", type=Path, help="where the shards go (replaced)")
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--val-count", type=int, default=24)
    parser.add_argument("--limit-mib", type=float, default=38.0, help="fail if a shard is bigger")
    args = parser.parse_args()
    sizes = pack(args.data, args.out, args.shards, args.val_count)
    for k, size in enumerate(sizes):
        frames = sum(1 for _ in (args.out / str(k) / "frames").rglob("*.*"))
        photos = sum(1 for _ in (args.out / str(k) / "sharp").iterdir())
        print(f"shard {k}: {size / 2**20:.1f} MiB, {frames} frames, {photos} photos")
    if max(sizes) > args.limit_mib * 2**20:
        raise SystemExit(f"a shard is over {args.limit_mib} MiB: use more shards (--shards)")


if __name__ == "__main__":
    main()
