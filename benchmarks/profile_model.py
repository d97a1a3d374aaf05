"""Where a SAPHNet preset spends its CPU time: torch.profiler over eval-mode forwards at one size.

Prints the top ops by self CPU time, and the time per model module (inclusive), attributed with
forward hooks that open a `record_function` scope named after each module's class and path.

    python benchmarks/profile_model.py --preset saphnet-s --size 512 --runs 2
"""

from __future__ import annotations

import argparse
import collections
import os

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function

from deblur_cli.model import create_model

# Module classes whose inclusive time is worth a line of its own.
_SCOPED = (
    "GlobalAttention",
    "PixelDependentFilter",
    "CAPM",
    "ResBlock",
    "CrossMerge",
    "PatchRefiner",
    "SamplingPolicy",
    "Encoder",
    "Decoder",
    "PatchHierarchy",
)


def _add_scopes(model: nn.Module) -> None:
    """Wrap each interesting module's forward in a record_function named `Class`."""
    for _name, module in model.named_modules():
        cls = type(module).__name__
        if cls not in _SCOPED:
            continue
        original = module.forward

        def scoped(*args, _orig=original, _label=f"module::{cls}", **kwargs):
            with record_function(_label):
                return _orig(*args, **kwargs)

        module.forward = scoped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = create_model(args.preset).eval()
    x = torch.rand(1, 3, args.size, args.size)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    _add_scopes(model)
    with torch.inference_mode():
        model(x)  # warm-up
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.runs):
                with record_function("forward"):
                    model(x)

    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / args.runs / 1e3
    print(f"{args.preset} at {args.size}x{args.size}, {args.threads} threads, {args.runs} runs: "
          f"{total:.0f} ms of self CPU time per forward")
    print(f"\nTop {args.top} ops by self CPU time (ms per forward, % of total, calls per forward):")
    ops = sorted((e for e in events if not e.key.startswith(("module::", "forward"))),
                 key=lambda e: e.self_cpu_time_total, reverse=True)
    for e in ops[: args.top]:
        ms = e.self_cpu_time_total / args.runs / 1e3
        print(f"  {e.key:40s} {ms:9.1f} {100 * ms / total:6.1f}%  {e.count // args.runs:6d}")

    print("\nInclusive time per module class (ms per forward; nested classes overlap):")
    scopes: dict[str, float] = collections.defaultdict(float)
    counts: dict[str, int] = collections.defaultdict(int)
    for e in events:
        if e.key.startswith("module::"):
            scopes[e.key[8:]] += e.cpu_time_total / args.runs / 1e3
            counts[e.key[8:]] += e.count // args.runs
    for cls, ms in sorted(scopes.items(), key=lambda kv: kv[1], reverse=True):
        print(f"  {cls:22s} {ms:9.1f} {100 * ms / total:6.1f}%  {counts[cls]:6d} calls")


if __name__ == "__main__":
    main()
