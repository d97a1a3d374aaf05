"""Time the trainer's optimisation step alone (forward, losses, backward, clipping, AdamW, EMA) on one fixed
batch, without data preparation: what a GPU run's steps/s is made of when the data keeps up.

The batch is synthesised once from the project's own sharp example photo, so no data folder is needed.
The first `--warmup` steps (and any compiling) are left out. Run from the repository root:

    python benchmarks/train_step.py --batch 4 --crop 128 --steps 6
    python benchmarks/train_step.py --batch 1 --crop 64 --count-ops   # what each launch-bound step runs
    python benchmarks/train_step.py --device cuda --batch 16 --crop 256 --compile reduce-overhead
"""

from __future__ import annotations

import tempfile
import time

import common
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from deblur_cli.train.losses import policy_loss, restoration_loss
from deblur_cli.train.trainer import TrainConfig, Trainer

# Operators that launch no kernel of their own: views and allocations.
_FREE = {"view", "_unsafe_view", "as_strided", "detach", "expand", "permute", "unsqueeze", "squeeze", "slice",
         "select", "t", "transpose", "alias", "_reshape_alias", "split", "unbind", "reshape", "empty",
         "empty_like", "empty_strided"}


class _CountOps(TorchDispatchMode):
    """Counts the operators dispatched to a device (a GPU launches a kernel, or more, for each)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += func.__name__.split(".")[0] not in _FREE
        return func(*args, **(kwargs or {}))


def count_ops(trainer: Trainer, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[int, int]:
    """Operators of the forward with its losses, and of the backward, for one policy-phase step."""
    blurred, sharp = (t.to(trainer.device, memory_format=trainer.memory_format) for t in batch)
    cell = trainer.model.config.cell
    with _CountOps() as forward:
        out = trainer.model(blurred, selection="policy")
        out.stages = [s.float() for s in out.stages]
        loss = restoration_loss(out, sharp, trainer.cfg.loss, cell)[0] + policy_loss(
            out, sharp, trainer.cfg.loss, cell
        )[0]
    with _CountOps() as backward:
        loss.backward()
    return forward.count, backward.count


def main() -> None:
    parser = common.parser(__doc__)
    common.add_model(parser, default=TrainConfig.preset, weights=False)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--steps", type=int, default=6, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    common.add_device(parser)
    parser.add_argument("--compile", default="off", choices=["off", "default", "reduce-overhead"])
    parser.add_argument("--count-ops", action="store_true", help="also count one step's operators")
    args = parser.parse_args()
    common.set_threads(args)

    with tempfile.TemporaryDirectory() as run:
        cfg = TrainConfig(
            preset=args.model, sharp_dirs=["examples"], sharp_exclude=["*blurred*"], crop=args.crop,
            batch_size=args.batch, stage1_steps=0, random_steps=0, compile=args.compile,
        )
        trainer = Trainer(cfg, run, device=args.device)
        batch = trainer._own_batch(0)
        if args.count_ops:
            forward, backward = count_ops(trainer, batch)
            print(f"operators (views and allocations left out): {forward} forward with the losses, "
                  f"{backward} backward")
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
        f"{args.model} batch {args.batch} x {args.crop} px on {trainer.device}, compile {args.compile}: "
        f"median {times[len(times) // 2] * 1e3:.0f} ms/step "
        f"(min {times[0] * 1e3:.0f}, max {times[-1] * 1e3:.0f}; "
        f"{args.steps} steps after {args.warmup} taking {first:.1f} s)"
    )


if __name__ == "__main__":
    main()
