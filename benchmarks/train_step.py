"""Time the trainer's optimisation step alone (forward, losses, backward, clipping, AdamW, EMA) on one fixed
batch, without data preparation: what a GPU run's steps/s is made of when the data keeps up.

The batch is synthesised once from the project's own sharp example photo, so no data folder is needed.
The first `--warmup` steps (and any compiling) are left out. Run from the repository root:

    python benchmarks/train_step.py --batch 4 --crop 128 --steps 6
    python benchmarks/train_step.py --device cuda --batch 16 --crop 256 --compile reduce-overhead
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from deblur_cli.train.trainer import TrainConfig, Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--steps", type=int, default=6, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compile", default="off", choices=["off", "default", "reduce-overhead"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as run:
        cfg = TrainConfig(
            preset=args.preset, sharp_dirs=["examples"], sharp_exclude=["*blurred*"], crop=args.crop,
            batch_size=args.batch, stage1_steps=0, random_steps=0, compile=args.compile,
        )
        trainer = Trainer(cfg, run, device=args.device)
        batch = trainer._own_batch(0)
        start = time.perf_counter()
        for _ in range(args.warmup):
            trainer.train_step(batch)
        first = time.perf_counter() - start
        times = []
        for _ in range(args.steps):
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            trainer.train_step(batch)  # ends in float(loss): the step has finished on the device
            times.append(time.perf_counter() - t)
    times.sort()
    print(
        f"{args.preset} batch {args.batch} x {args.crop} px on {trainer.device}, compile {args.compile}: "
        f"median {times[len(times) // 2] * 1e3:.0f} ms/step "
        f"(min {times[0] * 1e3:.0f}, max {times[-1] * 1e3:.0f}; "
        f"{args.steps} steps after {args.warmup} taking {first:.1f} s)"
    )


if __name__ == "__main__":
    main()
