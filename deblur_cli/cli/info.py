"""`deblur info`: versions, the devices torch finds, and where each preset's weights would come from."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

import torch
from rich.table import Table

from .. import __version__
from ..engine.devices import cpu_runs_bf16, resolve_device
from ..errors import DeblurError
from ..model import DEFAULT_PRESET, list_presets
from ..weights import get_record, local_files
from ..weights.resolve import resolves_from
from .console import Terminal

DEFAULT_REASON = "DMPHN 1-2-4's published GoPro-trained weights: it deblurs real blur best"
SHA_SHOWN = 12
"""Leading hex digits of each preset's recorded sha256 shown (`deblur weights verify` prints them all)."""


def info() -> None:
    """Show versions, the devices found, and where each preset's weights come from (no network)."""
    term = Terminal()
    versions = Table("package", "version", title="versions", title_justify="left")
    versions.add_row("deblur", __version__)
    versions.add_row("python", f"{platform.python_version()} ({platform.python_implementation()}, "
                     f"{platform.system()} {platform.machine()})")
    versions.add_row("torch", torch.__version__)
    for name in ("numpy", "pillow", "opencv-python-headless", "typer", "huggingface-hub", "safetensors"):
        versions.add_row(name, _installed(name))
    term.out.print(versions)

    devices = Table("device", "details", title="devices", title_justify="left")
    for name, details in _devices():
        devices.add_row(name, details)
    term.out.print(devices)

    presets = Table("preset", "weights from", "sha256", "published as", title="presets", title_justify="left",
                    caption=f"default: {DEFAULT_PRESET} ({DEFAULT_REASON})", caption_justify="left")
    for preset in list_presets():
        name = f"{preset} (default)" if preset == DEFAULT_PRESET else preset
        try:
            record = get_record(preset)
            presets.add_row(name, resolves_from(preset, local_files(preset)),
                            record.sha256[:SHA_SHOWN] if record.sha256 else "-", record.where())
        except (DeblurError, ValueError) as exc:
            presets.add_row(name, f"unknown ({exc})", "-", "-")
    term.out.print(presets)


def _installed(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _devices() -> list[tuple[str, str]]:
    rows = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            rows.append((f"cuda:{index}", f"{props.name}, {props.total_memory / 2**30:.1f} GiB, "
                         f"compute capability {props.major}.{props.minor}"))
    else:
        build = f"torch built for CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only torch build"
        rows.append(("cuda", f"not available ({build})"))
    rows.append(("mps", "available" if torch.backends.mps.is_available() else "not available"))
    rows.append(("cpu", f"{torch.get_num_threads()} torch threads, {os.cpu_count()} logical cores"))
    auto = resolve_device("auto")
    if auto.type == "cpu":
        precision = "bf16 (native on this CPU)" if cpu_runs_bf16() else "fp32 (no native bf16)"
        rows.append(("auto", f"runs on cpu in {precision}"))
    else:
        rows.append(("auto", f"runs on {auto}"))
    return rows
