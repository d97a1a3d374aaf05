"""CPU time of a preset with its config switches flipped one at a time, against DMPHN 1-2-4, runs alternating.

Shows what each of the paper's ideas costs in time on this machine (quality is the training issue's
business), so a faster preset can be chosen from measurements. Random weights; eval mode.

    python benchmarks/ablation_speed.py --preset saphnet-s --size 512 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

import torch

from deblur_cli.bench import alternate, count_parameters, load_reference
from deblur_cli.model import create_model

VARIANTS: dict[str, dict[str, Any]] = {
    "as is": {},
    "CAPMs at scale 2 only": {"capm_scales": (2,)},
    "no offsets (unfold filter)": {"use_offsets": False},
    "no local branch": {"use_local": False},
    "no global branch": {"use_global": False},
    "no cross-attention": {"cross_attention": False},
    "1 stage (no refinement)": {"stages": 1, "budget": ()},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="saphnet-s")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(1, 3, args.size, args.size)
    nets = {"dmphn 1-2-4": load_reference("dmphn")}
    for name, overrides in VARIANTS.items():
        nets[f"{args.preset} {name}"] = create_model(args.preset, **overrides).eval()
    runs = {name: (lambda net=net: net(x)) for name, net in nets.items()}
    with torch.inference_mode():
        times = alternate(runs, rounds=args.rounds)
    base = statistics.median(times["dmphn 1-2-4"])
    print(f"{args.size}x{args.size}, {torch.get_num_threads()} threads, {args.rounds} rounds (medians):")
    for name, t in times.items():
        m, params = statistics.median(t), count_parameters(nets[name]) / 1e6
        print(f"  {name:44s} {params:6.3f} M  {m:7.2f} s   / dmphn {m / base:5.2f}")


if __name__ == "__main__":
    main()
