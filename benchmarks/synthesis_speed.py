"""Time blur synthesis and the training datasets on the CPU (one OpenCV thread, as in a DataLoader worker),
then the trainer's batch pipeline: batches of 16 crops of 256 px, photos and frames 1 : 2 as in
`scripts/gpu_train.sh`, prepared by `--workers` processes (batches per second after `--warmup` batches, which
also fill each process's frame cache).

Reports wall time and process CPU time per call (CPU time is the fairer figure on a shared, loaded machine).
Run from the repository root:

    python benchmarks/synthesis_speed.py --data ../shared/data --workers 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

import common
import cv2
import numpy as np
import torch

from deblur_cli.train.datasets import FrameSequenceDataset, SharpFolderDataset, read_rgb
from deblur_cli.train.synthesis import SynthesisConfig, synthesize
from deblur_cli.train.trainer import TrainConfig, Trainer


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
    parser = common.parser(__doc__)
    common.add_data(parser)
    parser.add_argument("-n", type=int, default=60)
    parser.add_argument("--workers", type=int, nargs="*", default=[], help="time the batches with these")
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=40)
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
    for workers in args.workers:
        rate = _batch_rate(args, workers)
        print(f"batches of 16 x 256 px, {workers} worker processes: {rate:.2f} per second")


def _batch_rate(args: argparse.Namespace, workers: int) -> float:
    cfg = TrainConfig(
        sharp_dirs=[str(args.data / "sharp")],
        sharp_exclude=["val_*"],
        frame_dirs=[str(args.data / "frames")],
        mix=(1, 2, 0),
        crop=256,
        batch_size=16,
        workers=workers,
        frame_cache=300,
    )
    with tempfile.TemporaryDirectory() as out:
        batches = Trainer(cfg, out, device="cpu")._batches(args.warmup + args.batches)
        for i, _ in enumerate(batches):
            if i == args.warmup - 1:
                start = time.perf_counter()
        return args.batches / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
