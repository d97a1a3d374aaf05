"""SAPHNet presets against DMPHN 1-2-4 on the same input, in the same process, runs alternating.

Times the networks' forward passes alone (eval mode, torch.inference_mode, no image conversion or
tiling), one warm-up each, then `--rounds` rounds in which every network runs once. Reports each median,
the ratio of medians, and the median of the per-round ratios (robust to load that drifts between
rounds), plus parameter counts.

    python benchmarks/compare_dmphn.py --presets saphnet-s,saphnet-b --size 512 --rounds 7
    python benchmarks/compare_dmphn.py --channels-last          # both networks in channels_last
    python benchmarks/compare_dmphn.py --compile                # torch.compile both (compile time shown)
    python benchmarks/compare_dmphn.py --dtype bf16             # every network (and the input) in bfloat16
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from deblur_cli.bench import alternate, count_parameters, load_reference, machine_name
from deblur_cli.model import create_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="saphnet-s,saphnet-b")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--budget", type=float, default=None, help="SAPHNet budget (default: the preset's)")
    parser.add_argument("--channels-last", action="store_true", help="run every network in channels_last")
    parser.add_argument("--compile", action="store_true", help="torch.compile every network")
    parser.add_argument("--dtype", choices=("fp32", "fp16", "bf16"), default="fp32",
                        help="every network's dtype")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(1, 3, args.size, args.size)
    nets: dict[str, nn.Module] = {"dmphn-1-2-4": load_reference("dmphn")}
    for preset in args.presets.split(","):
        nets[preset] = create_model(preset).eval()
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[args.dtype]
    x = x.to(dtype)
    nets = {k: v.to(dtype) for k, v in nets.items()}
    if args.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
        nets = {k: v.to(memory_format=torch.channels_last) for k, v in nets.items()}

    print(f"{machine_name()}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"input 1x3x{args.size}x{args.size} {args.dtype}; channels_last={args.channels_last}; "
          f"compile={args.compile}")
    for name, net in nets.items():
        print(f"  {name:14s} {count_parameters(net) / 1e6:6.3f} M parameters")

    runs: dict[str, Callable[[], object]] = {}
    for name, net in nets.items():
        is_saphnet = hasattr(net, "resolve_budget")
        target = torch.compile(net) if args.compile else net
        if is_saphnet:
            runs[name] = lambda t=target: t(x, budget=args.budget)
        else:
            runs[name] = lambda t=target: t(x)
        if args.compile:
            start = time.perf_counter()
            try:
                with torch.inference_mode():
                    runs[name]()
                print(f"  {name}: compile + first call {time.perf_counter() - start:.1f} s")
            except Exception as exc:  # many error types; fall back to eager, say why
                reason = str(exc).splitlines()[0][:160] if str(exc) else ""
                print(f"  {name}: torch.compile failed ({type(exc).__name__}: {reason}); timing eager")
                runs[name] = (lambda n=net: n(x, budget=args.budget)) if is_saphnet else (lambda n=net: n(x))

    with torch.inference_mode():
        times = alternate(runs, rounds=args.rounds, warmup=1)

    reference = times["dmphn-1-2-4"]
    ref_median = statistics.median(reference)
    print(f"\n{args.rounds} rounds, median seconds (min .. max), ratio to DMPHN 1-2-4:")
    for name, t in times.items():
        ratio = statistics.median(t) / ref_median
        paired = statistics.median(a / b for a, b in zip(t, reference, strict=True))
        print(f"  {name:14s} {statistics.median(t):7.3f} s ({min(t):.3f} .. {max(t):.3f})   "
              f"ratio of medians {ratio:5.2f}   median per-round ratio {paired:5.2f}")


if __name__ == "__main__":
    main()
