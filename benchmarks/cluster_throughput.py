"""Photos per second of `deblur run` on this machine: a plain local run (torch's default threads, and one
thread) against `--cluster` with 1 and 2 workers on a Ray cluster this script starts, over the same
generated folder (docs/cluster.md).

Each run is a fresh `deblur` process, timed from start to exit (so a cluster run pays for its workers'
start, as a user would). Runs alternate round by round, each configuration going first in turn, so a change
in machine load hits all alike; medians are reported, with the rate the cluster runs print themselves
(from asking for their workers to the last photo, without connecting). Each run's outputs are compared
with the local run's: equal bytes need the same torch threads per process (2 workers on 2 cores run 1
thread each, and a different thread count changes the last bits of some pixels).

    python benchmarks/cluster_throughput.py -m saphnet-s --photos 16 --size 192x128 --rounds 3
"""

from __future__ import annotations

import hashlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import common
import numpy as np
import ray
from PIL import Image

from deblur_cli.bench import alternate, machine_name, parse_sizes


def make_photos(folder: Path, count: int, width: int, height: int) -> None:
    """`count` RGB PNGs of random pixels (the network's time does not depend on what they show)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:03d}.png")


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def main() -> None:
    parser = common.parser(__doc__)
    common.add_model(parser, weights=False)
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--size", default="192x128", help="WIDTHxHEIGHT of each photo")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    (width, height), = parse_sizes(args.size)

    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "in"
        make_photos(photos, args.photos, width, height)
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        address = ray.get_runtime_context().gcs_address
        base = [sys.executable, "-m", "deblur_cli", "run", str(photos), "-m", args.model]
        commands = {
            "local run": [*base, "--device", "cpu"],
            "local run, 1 thread": [*base, "--device", "cpu", "--threads", "1"],
            "cluster, 1 worker": [*base, "--cluster", address, "--workers", "1"],
            "cluster, 2 workers": [*base, "--cluster", address, "--workers", "2"],
        }
        in_run: dict[str, list[float]] = {name: [] for name in commands}
        outputs: dict[str, Path] = {}

        def runner(name: str, command: list[str]) -> object:
            def run() -> None:
                out = Path(tempfile.mkdtemp(dir=tmp)) / "out"
                done = subprocess.run([*command, "-o", str(out)], capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(f"{name} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
                rate = re.search(r"([0-9.]+) photos/s", done.stdout)
                if rate:
                    in_run[name].append(float(rate.group(1)))
                outputs[name] = out
            return run

        names = list(commands)
        times: dict[str, list[float]] = {name: [] for name in names}
        try:
            for round_ in range(args.rounds):  # each configuration goes first in turn
                order = names[round_ % len(names):] + names[:round_ % len(names)]
                for name, seconds in alternate({n: runner(n, commands[n]) for n in order}, rounds=1,
                                               warmup=0).items():
                    times[name] += seconds
        finally:
            ray.shutdown()  # a failed run must not leave the cluster's processes behind
        same = {name: digests(out) == digests(outputs["local run"]) for name, out in outputs.items()}

    print(f"{machine_name()}; {args.photos} photos of {width}x{height}, {args.model}, {args.rounds} rounds")
    print(f"{'':20} {'median s':>9} {'photos/s':>9} {'in-run photos/s':>16} {'= local':>8}   runs (s)")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        inner = f"{statistics.median(in_run[name]):.3f}" if in_run[name] else "-"
        runs = ", ".join(f"{s:.1f}" for s in seconds)
        print(f"{name:20} {median:9.1f} {args.photos / median:9.3f} {inner:>16} {same[name]!s:>8}   {runs}")


if __name__ == "__main__":
    main()
