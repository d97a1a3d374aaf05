"""scripts/pack_shards.py (loaded by path): the GPU calls' data shards cover the training data once each
and never take the held-out photos."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pack_shards.py"


def _load():
    spec = importlib.util.spec_from_file_location("pack_shards", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _image(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 8, 3), value, np.uint8))


def test_shards_split_frames_in_blocks_and_photos_round_robin_without_held_out_photos(tmp_path):
    data = tmp_path / "data"
    frames = [f"{n:06d}.jpg" for n in [*range(1, 8), *range(20, 25)]]  # 12 frames, a gap after 7
    for i, name in enumerate(frames):
        _image(data / "frames" / "SEQ" / name, i)
    bsds = ["train_1.jpg", "train_2.jpg", "test_3.jpg", "val_1.jpg", "val_2.jpg", "val_3.jpg"]
    for i, name in enumerate(bsds):
        _image(data / "sharp" / "bsds500" / name, i)
    _image(data / "sharp" / "kodak24" / "kodim01.png", 9)

    sizes = _load().pack(data, tmp_path / "out", shards=3, val_count=2)

    out = tmp_path / "out"
    assert len(sizes) == 3 and all(size > 0 for size in sizes)
    blocks = [sorted(p.name for p in (out / str(k) / "frames" / "SEQ").iterdir()) for k in range(3)]
    assert blocks == [frames[0:4], frames[4:8], frames[8:12]]  # consecutive blocks, each frame once
    photos = sorted(p.name for k in range(3) for p in (out / str(k) / "sharp").iterdir())
    assert photos == [f"bsds500_{n}.jpg" for n in ("test_3", "train_1", "train_2")] + ["kodak24_kodim01.jpg"]
    assert [len(list((out / str(k) / "sharp").iterdir())) for k in range(3)] == [2, 1, 1]
    assert sorted(p.name for p in (out / "val").iterdir()) == ["val_1.jpg", "val_2.jpg"]
    assert cv2.imread(str(out / "0" / "sharp" / "kodak24_kodim01.jpg")) is not None  # re-encoded as JPEG
