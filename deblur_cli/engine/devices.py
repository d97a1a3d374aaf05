"""Choosing the device and the precision a network runs at, and how much memory each side has free."""

from __future__ import annotations

import logging
import os
import re
from functools import cache
from pathlib import Path
from typing import Literal

import torch

from ..errors import DeviceError
from ..model.descriptor import ModelDescriptor

logger = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "fp16", "bf16"]
DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

_CUDA = re.compile(r"cuda(?::(\d+))?")


def is_device_name(spec: str) -> bool:
    """Whether `spec` is spelled as a device (auto, cpu, mps, cuda, cuda:N), whether or not it exists here."""
    name = spec.strip().lower()
    return name in ("auto", "cpu", "mps") or _CUDA.fullmatch(name) is not None


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """"auto" picks CUDA (device 0) > Apple MPS > CPU; an explicit device must exist, else DeviceError."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    name = spec.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", 0)
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if "," in name:
        raise DeviceError(f"{spec!r} names several devices; only `deblur run` spreads photos over devices, "
                          "give one here")
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceError("device 'mps' is not available (needs Apple silicon and torch with MPS)")
        return torch.device("mps")
    match = _CUDA.fullmatch(name)
    if match is None:
        raise DeviceError(f"unknown device {spec!r}; use auto, cpu, cuda, cuda:N or mps")
    if not torch.cuda.is_available():
        raise DeviceError(f"device {spec!r} is not available: this torch build or machine has no CUDA GPU")
    index = int(match.group(1) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise DeviceError(f"device {spec!r} is not available: found {count} CUDA device(s)")
    return torch.device("cuda", index)


@cache
def cpu_runs_bf16() -> bool:
    """Whether this CPU does bf16 arithmetic natively (AVX512-BF16 or AMX), where bf16 halves a network's
    time; elsewhere torch emulates it, slower than fp32. ``DEBLUR_CPU_BF16=0`` or ``1`` overrides the check
    (worker processes inherit it).

    Raises:
        DeviceError: DEBLUR_CPU_BF16 is set to something other than 0 or 1.
    """
    forced = os.environ.get("DEBLUR_CPU_BF16")
    if forced is not None:
        if forced not in ("0", "1"):
            raise DeviceError(f"DEBLUR_CPU_BF16 must be 0 or 1, got {forced!r}")
        return forced == "1"
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def resolve_precision(spec: Precision | str, device: torch.device, descriptor: ModelDescriptor) -> str:
    """Pick fp32/fp16/bf16. "auto" uses fp16 on CUDA when the network is half-safe (bf16 when only that
    is, and the GPU runs it), bf16 on CPUs with native bf16 when the network is bf16-safe, fp32 elsewhere
    (MPS, other CPUs)."""
    if spec not in ("auto", *DTYPES):
        raise ValueError(f"precision must be auto, fp32, fp16 or bf16, got {spec!r}")
    if spec == "auto":
        if device.type == "cpu":
            return "bf16" if descriptor.supports_bfloat16 and cpu_runs_bf16() else "fp32"
        if device.type != "cuda":
            return "fp32"
        if descriptor.supports_half:
            return "fp16"
        if descriptor.supports_bfloat16 and torch.cuda.is_bf16_supported():
            return "bf16"
        return "fp32"
    if spec == "fp16" and not descriptor.supports_half:
        raise DeviceError("this network does not support fp16; use --precision fp32 or bf16")
    if spec == "bf16" and not descriptor.supports_bfloat16:
        raise DeviceError("this network does not support bf16; use --precision fp32 or fp16")
    if spec == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise DeviceError(f"{device} does not run bf16; use --precision fp16 or fp32")
    return spec


def device_free_bytes(device: torch.device) -> int:
    """Free memory where tiles run: the GPU's free memory, or the host's available RAM on CPU/MPS."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return host_available_bytes()


def host_available_bytes() -> int:
    """RAM this process can still use: MemAvailable, lowered by a cgroup (container) limit when one is set."""
    available = _meminfo_available()
    limit = _cgroup_headroom()
    return min(available, limit) if limit is not None else available


def _meminfo_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * page
    except (ValueError, OSError):  # macOS has no SC_AVPHYS_PAGES: assume half the RAM is free
        return os.sysconf("SC_PHYS_PAGES") * page // 2


def _cgroup_headroom() -> int | None:
    """cgroup v2 memory.max minus what the group uses (reclaimable file cache not counted), or None
    without a limit."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int((root / "memory.current").read_text())
        for line in (root / "memory.stat").read_text().splitlines():
            if line.startswith("inactive_file "):
                used -= int(line.split()[1])
        return max(0, int(limit) - used)
    except (OSError, ValueError):
        return None
