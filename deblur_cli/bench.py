"""Benchmarks through the engine: median seconds per megapixel, throughput and peak memory per image size,
and the DMPHN 1-2-4 reference timed against it in the same process, runs alternating.

Timing: one untimed warm-up run per size (by default), then `repeats` timed runs of `Deblurrer.restore`
on the same random image; the median is reported (the mean would follow whatever else the machine is doing).
Memory: on CUDA, `torch.cuda.max_memory_allocated` over the runs; on CPU, the process's peak resident set
(VmHWM) over the runs, reset before each size through /proc/self/clear_refs on Linux. Elsewhere
(no clear_refs), `ru_maxrss`, the peak over the process's life, is reported instead: sizes run smallest
first, so it still bounds each size from above.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from .engine import Deblurrer
from .model.descriptor import Budget
from .model.dmphn import DMPHN124

logger = logging.getLogger(__name__)

REFERENCES = ("dmphn",)
"""Reference networks, by name."""
MemorySource = Literal["cuda-max-allocated", "rss-peak", "rss-lifetime-peak"]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class SizeResult:
    """What one image size measured."""

    width: int
    height: int
    seconds: list[float]
    """Every timed run, in order (warm-up excluded)."""
    tiles: int
    """Tiles the engine cut the image into."""
    peak_bytes: int
    """Peak memory over the warm-up and timed runs (see `memory_source`); with a reference, its runs too."""
    baseline_bytes: int
    """Memory in use just before this size ran (the model, the interpreter, what earlier sizes kept)."""
    reference_seconds: list[float] = field(default_factory=list)
    """The reference network's timed runs, alternating with ours (empty without a reference)."""

    @property
    def megapixels(self) -> float:
        """Image size in millions of pixels."""
        return self.width * self.height / 1e6

    @property
    def median_seconds(self) -> float:
        """Median wall time of one restore."""
        return statistics.median(self.seconds)

    @property
    def seconds_per_megapixel(self) -> float:
        """Median seconds per megapixel."""
        return self.median_seconds / self.megapixels

    @property
    def megapixels_per_second(self) -> float:
        """Throughput at the median time."""
        return self.megapixels / self.median_seconds

    @property
    def reference_ratio(self) -> float | None:
        """Our median time over the reference's (below 1: we are faster); None without a reference."""
        if not self.reference_seconds:
            return None
        return self.median_seconds / statistics.median(self.reference_seconds)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the derived figures."""
        data = asdict(self)
        data.update(
            megapixels=self.megapixels,
            median_seconds=self.median_seconds,
            seconds_per_megapixel=self.seconds_per_megapixel,
            megapixels_per_second=self.megapixels_per_second,
            peak_mib=self.peak_bytes / 2**20,
        )
        if self.reference_seconds:
            data.update(reference_median_seconds=statistics.median(self.reference_seconds),
                        reference_ratio=self.reference_ratio)
        return data


@dataclass(frozen=True)
class BenchReport:
    """A benchmark run: where it ran, with what, and one `SizeResult` per size."""

    model: str
    parameters: int
    device: str
    precision: str
    threads: int
    tile: str
    budget: float | list[float] | None
    memory_source: MemorySource
    machine: str
    torch_version: str
    sizes: list[SizeResult]
    reference: str | None = None
    reference_parameters: int | None = None
    ensemble: int = 1
    """Passes per tile (`--ensemble`); the reference always runs once."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = {k: v for k, v in asdict(self).items() if k != "sizes"}
        data["sizes"] = [s.to_dict() for s in self.sizes]
        return data


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """"512,1024,1280x720" -> [(512, 512), (1024, 1024), (1280, 720)] as (width, height), smallest first."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        match = re.fullmatch(r"(\d+)(?:x(\d+))?", part)
        if match is None:
            raise ValueError(f"{part!r} is not a size: use N (N x N) or WxH, e.g. 512,1024,1280x720")
        width = int(match.group(1))
        height = int(match.group(2) or width)
        if width < 1 or height < 1:
            raise ValueError(f"sizes must be at least 1 pixel, got {part!r}")
        sizes.append((width, height))
    if not sizes:
        raise ValueError("no sizes given")
    return sorted(set(sizes), key=lambda s: (s[0] * s[1], s))


def alternate(
    runs: dict[str, Callable[[], object]],
    *,
    rounds: int,
    warmup: int = 1,
    sync: Callable[[], None] | None = None,
) -> dict[str, list[float]]:
    """Time callables in turn, round after round (so a change in machine load hits them all alike).

    Each runs `warmup` untimed times first. Returns name -> seconds of each timed run.
    """
    if rounds < 1 or warmup < 0:
        raise ValueError(f"need rounds >= 1 and warmup >= 0, got {rounds} and {warmup}")
    sync = sync or (lambda: None)
    for _ in range(warmup):
        for fn in runs.values():
            fn()
    sync()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - start)
    return times


def count_parameters(module: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in module.parameters())


def load_reference(name: str = "dmphn") -> nn.Module:
    """The reference network by name (random weights, eval mode: speed does not depend on them).

    Raises:
        ValueError: an unknown reference name.
    """
    if name not in REFERENCES:
        raise ValueError(f"unknown reference {name!r}; choose from {', '.join(REFERENCES)}")
    return DMPHN124().eval()


def machine_name() -> str:
    """CPU model name and logical core count, e.g. "AMD EPYC, 2 logical cores"."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} logical cores"


def memory_source(device: torch.device) -> MemorySource:
    """How peak memory is measured on this device and system."""
    if device.type == "cuda":
        return "cuda-max-allocated"
    return "rss-peak" if _CLEAR_REFS.exists() and _STATUS.exists() else "rss-lifetime-peak"


def _status_kib(field_name: str) -> int:
    match = re.search(rf"^{field_name}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    if match is None:
        raise OSError(f"{field_name} not in {_STATUS}")
    return int(match.group(1))


def _current_bytes(source: MemorySource, device: torch.device) -> int:
    if source == "cuda-max-allocated":
        return torch.cuda.memory_allocated(device)
    if source == "rss-peak":
        return _status_kib("VmRSS") * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def _reset_peak(source: MemorySource, device: torch.device) -> None:
    if source == "cuda-max-allocated":
        torch.cuda.reset_peak_memory_stats(device)
    elif source == "rss-peak":
        _CLEAR_REFS.write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


def _peak_bytes(source: MemorySource, device: torch.device) -> int:
    if source == "cuda-max-allocated":
        return torch.cuda.max_memory_allocated(device)
    if source == "rss-peak":
        return _status_kib("VmHWM") * 1024
    return _current_bytes(source, device)


def random_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A random H x W x 3 uint8 image (content does not change the work: the budget fixes the cells)."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def bench(
    deblurrer: Deblurrer,
    sizes: Sequence[tuple[int, int]],
    *,
    repeats: int = 5,
    warmup: int = 1,
    reference: nn.Module | None = None,
    model_name: str = "",
) -> BenchReport:
    """Time `deblurrer.restore` at each (width, height), smallest first, after `warmup` untimed runs; with
    `reference`, time that network's forward on the same image (whole, padded to a multiple of 8) in
    alternation with ours (the peak memory then covers both networks' runs).

    Raises:
        ValueError: repeats < 1, warmup < 0 or no sizes.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    if not sizes:
        raise ValueError("no sizes given")
    device = deblurrer.device
    source = memory_source(device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else None
    if reference is not None:
        # In the engine's memory layout (channels_last where it pays): compare networks, not layouts.
        layout = deblurrer.memory_format
        reference = reference.to(device=device, dtype=deblurrer.dtype, memory_format=layout).eval()
    results = []
    for width, height in sorted(sizes, key=lambda s: (s[0] * s[1], s)):
        img = random_image(width, height)
        tiles = [0]

        def ours(img: np.ndarray = img, tiles: list[int] = tiles) -> None:
            deblurrer.restore(img, progress=lambda done, total: tiles.__setitem__(0, total))

        runs: dict[str, Callable[[], object]] = {"ours": ours}
        if reference is not None:
            runs["reference"] = _reference_run(reference, img, device, deblurrer.dtype, layout)
        logger.info("benchmarking %dx%d", width, height)
        baseline = _current_bytes(source, device)
        _reset_peak(source, device)
        times = alternate(runs, rounds=repeats, warmup=warmup, sync=sync)
        results.append(SizeResult(
            width=width, height=height, seconds=times["ours"], tiles=tiles[0],
            peak_bytes=_peak_bytes(source, device), baseline_bytes=baseline,
            reference_seconds=times.get("reference", []),
        ))
    return BenchReport(
        model=model_name,
        parameters=count_parameters(deblurrer.model),
        device=str(device),
        precision=deblurrer.precision,
        threads=torch.get_num_threads(),
        tile=str(deblurrer.tile),
        budget=_plain_budget(deblurrer.budget),
        memory_source=source,
        machine=machine_name() if device.type != "cuda" else torch.cuda.get_device_name(device),
        torch_version=torch.__version__,
        sizes=results,
        reference="dmphn" if reference is not None else None,
        reference_parameters=count_parameters(reference) if reference is not None else None,
        ensemble=deblurrer.ensemble,
    )


def _reference_run(
    reference: nn.Module, img: np.ndarray, device: torch.device, dtype: torch.dtype,
    memory_format: torch.memory_format,
) -> Callable[[], None]:
    """The reference's restore: the same conversions as ours (uint8 -> tensor -> uint8), the whole image."""
    multiple = getattr(reference, "size_multiple", 8)
    height, width = img.shape[:2]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple

    def run() -> None:
        with torch.inference_mode():
            x = torch.from_numpy(img).permute(2, 0, 1)[None].to(device, dtype) / 255.0
            x = torch.nn.functional.pad(x, [0, pad_w, 0, pad_h], mode="replicate")
            y = reference(x.contiguous(memory_format=memory_format))[..., :height, :width]
            (y.clamp(0, 1) * 255.0).round().to(torch.uint8)[0].permute(1, 2, 0).cpu().numpy()

    return run


def _plain_budget(budget: Budget) -> float | list[float] | None:
    if budget is None or isinstance(budget, float | int):
        return budget
    return [float(b) for b in budget]
