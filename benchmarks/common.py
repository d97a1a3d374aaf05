"""What the benchmark scripts share: their command line (the network as `deblur` takes it, `-m/--model` and
`-w/--weights`; the device and CPU threads; the data folder; a JSON copy of the figures) and the few lines
that turn it into an engine.

The scripts run from the repository root (`python benchmarks/NAME.py`), which puts this folder on Python's
path, so they import this module as `common`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

from deblur_cli import Deblurrer
from deblur_cli.model import DEFAULT_PRESET, list_presets

DATA = Path("../shared/data")
"""The shared data folder, seen from the repository root."""


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser for a script whose docstring is `doc`: its first paragraph is the description, the rest
    (how it measures, example commands) follows the options in `--help`, as written."""
    summary, _, rest = (doc or "").strip().partition("\n\n")
    return argparse.ArgumentParser(
        description=summary, epilog=rest or None, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def add_model(
    parser: argparse.ArgumentParser, *, default: str = DEFAULT_PRESET, weights: bool = True
) -> None:
    """`-m/--model` (also `--preset`, as `deblur bench` takes it) and, unless `weights` is false,
    `-w/--weights`."""
    parser.add_argument(
        "-m",
        "--model",
        "--preset",
        default=default,
        choices=list_presets(include_test=True),
        metavar="PRESET",
        help=f"network preset (default: {default})",
    )
    if weights:
        parser.add_argument(
            "-w",
            "--weights",
            metavar="SPEC",
            help="a .safetensors file, a weights folder or a Hub repo (default: preset's)",
        )


def add_device(parser: argparse.ArgumentParser, *, default: str = "cpu") -> None:
    """`-d/--device` and `--threads`."""
    parser.add_argument(
        "-d", "--device", default=default, help=f"cpu, cuda, cuda:N, mps or auto (default: {default})"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="CPU threads for torch (default: torch's own choice, the cores)",
    )


def add_data(parser: argparse.ArgumentParser) -> None:
    """`--data`: the shared data folder (`sharp/`, `frames/`, `val/`)."""
    parser.add_argument("--data", type=Path, default=DATA, help=f"the shared data folder (default: {DATA})")


def add_json(parser: argparse.ArgumentParser, what: str = "the figures") -> None:
    """`--json PATH`: also write `what` there."""
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help=f"also write {what} here")


def set_threads(args: argparse.Namespace) -> None:
    """Apply `--threads`, when given."""
    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)


def load_engine(args: argparse.Namespace, **options: Any) -> Deblurrer:
    """The engine `deblur run` would build from `-m`, `-w` and `-d` (after `--threads`), with `options`
    (`budget=`, `tile=`, ...) passed on. Without trained weights the figures mean nothing, so that is said
    on stderr."""
    set_threads(args)
    engine = Deblurrer.from_pretrained(
        args.model, weights=getattr(args, "weights", None), device=args.device, **options
    )
    if engine.untrained:
        print(
            f"warning: {args.model} has no trained weights here; these figures are an untrained network's",
            file=sys.stderr,
        )
    return engine


def write_json(path: Path | None, data: Any) -> None:
    """Write `data` to `path` as indented JSON (nothing when `path` is None)."""
    if path is not None:
        path.write_text(json.dumps(data, indent=1) + "\n")
