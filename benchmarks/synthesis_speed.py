"""Time blur synthesis and the training datasets on the CPU (one OpenCV thread, as in a DataLoader worker).

Reports wall time and process CPU time per call (CPU time is the fairer figure on a shared, loaded machine).
Run from the repository root:

    python benchmarks/synthesis_speed.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from deblur_cli.train.datasets import FrameSequenceDataset, SharpFolderDataset, read_rgb
from deblur_cli.train.synthesis import SynthesisConfig, synthesize


def _time(label: str, calls: list[Callable[[], object]]) -> None:
    wall, cpu = [], []
    for call in calls:
        w, c = time.perf_counter(), time.process_time()
        call()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    w_ms, c_ms = np.array(wall) * 1e3, np.array(cpu) * 1e3
    print(
        f"{label:<38} n={len(calls):<3} wall mean {w_ms.mean():6.1f} median {np.median(w_ms):6.1f} ms | "
        f"cpu mean {c_ms.mean():6.1f} median {np.median(c_ms):6.1f} p95 {np.percentile(c_ms, 95):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("-n", type=int, default=60)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)

    photos = [read_rgb(p) for p in sorted((args.data / "sharp" / "kodak24").glob("*.png"))[:8]]
    config = SynthesisConfig()
    for size in (256, 336):
        crops = [np.ascontiguousarray(photos[i % 8][40 : 40 + size, 80 : 80 + size]) for i in range(args.n)]
        _time(
            f"synthesize {size}x{size}",
            [lambda c=c, i=i: synthesize(c, i, config) for i, c in enumerate(crops)],
        )

    sharp = SharpFolderDataset(args.data / "sharp", crop=256)
    step = max(1, len(sharp) // args.n)
    _time(
        "SharpFolderDataset item (crop 256)",
        [lambda i=i: sharp[i] for i in range(0, len(sharp), step)][: args.n],
    )
    frames = FrameSequenceDataset(args.data / "frames", crop=256)
    step = max(1, len(frames) // args.n)
    _time(
        "FrameSequenceDataset item (crop 256)",
        [lambda i=i: frames[i] for i in range(0, len(frames), step)][: args.n],
    )


if __name__ == "__main__":
    main()
