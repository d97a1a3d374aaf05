"""Device and precision choice, memory figures, and the automatic tile size."""

from __future__ import annotations

import platform
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from deblur_cli.engine import Deblurrer, devices
from deblur_cli.engine.devices import host_available_bytes, resolve_device, resolve_precision
from deblur_cli.engine.sizing import auto_tile
from deblur_cli.errors import DeviceError
from deblur_cli.model import ModelDescriptor, create_model

HALF_SAFE = ModelDescriptor(size_multiple=16, min_size=1, supports_half=True, supports_bfloat16=True,
                            tiling_safe=True)
FP32_ONLY = ModelDescriptor(size_multiple=16, min_size=1, supports_half=False, supports_bfloat16=False,
                            tiling_safe=True)


def test_cpu_and_auto_resolve_to_real_devices() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("tpu", "unknown device 'tpu'; use auto, cpu, cuda, cuda:N or mps"),
    ("cuda:x", "unknown device 'cuda:x'"),
    ("cuda:0,cuda:1", "names several devices; only `deblur run` spreads"),
    ("cuda:99", "not available"),
])
def test_bad_or_missing_devices_are_a_one_line_device_error(spec: str, message: str) -> None:
    with pytest.raises(DeviceError, match=message) as info:
        resolve_device(spec)
    assert "\n" not in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_a_gpu_says_so() -> None:
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve_device("cuda")


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="checks the message on a machine without MPS")
def test_mps_without_apple_silicon_says_so() -> None:
    with pytest.raises(DeviceError, match="'mps' is not available"):
        resolve_device("mps")


def test_auto_precision_is_fp32_on_a_cpu_without_bf16_and_explicit_choices_are_kept() -> None:
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu, HALF_SAFE) == "fp32"
    assert resolve_precision("bf16", cpu, HALF_SAFE) == "bf16"
    assert resolve_precision("fp32", cpu, FP32_ONLY) == "fp32"
    with pytest.raises(DeviceError, match="does not support fp16"):
        resolve_precision("fp16", cpu, FP32_ONLY)
    with pytest.raises(DeviceError, match="does not support bf16"):
        resolve_precision("bf16", cpu, FP32_ONLY)
    with pytest.raises(ValueError, match="precision must be"):
        resolve_precision("fp8", cpu, HALF_SAFE)


def test_auto_precision_is_bf16_on_a_cpu_with_native_bf16_for_bf16_safe_networks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEBLUR_CPU_BF16", "1")
    devices.cpu_runs_bf16.cache_clear()
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu, HALF_SAFE) == "bf16"
    assert resolve_precision("auto", cpu, FP32_ONLY) == "fp32"
    assert resolve_precision("fp32", cpu, HALF_SAFE) == "fp32"
    assert Deblurrer(create_model("saphnet-test"), device="cpu").precision == "bf16"


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists() or platform.machine() != "x86_64",
                    reason="reads the x86 CPU flags Linux lists")
def test_native_bf16_matches_the_flags_linux_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEBLUR_CPU_BF16")
    devices.cpu_runs_bf16.cache_clear()
    flags = set(re.findall(r"\w+", Path("/proc/cpuinfo").read_text()))
    assert devices.cpu_runs_bf16() == bool({"avx512_bf16", "amx_bf16"} & flags)


def test_a_bad_bf16_override_says_what_it_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBLUR_CPU_BF16", "yes")
    devices.cpu_runs_bf16.cache_clear()
    with pytest.raises(DeviceError, match="DEBLUR_CPU_BF16 must be 0 or 1, got 'yes'"):
        resolve_precision("auto", torch.device("cpu"), HALF_SAFE)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_auto_precision_on_cuda_prefers_fp16_for_half_safe_networks() -> None:
    cuda = torch.device("cuda", 0)
    assert resolve_precision("auto", cuda, HALF_SAFE) == "fp16"
    assert resolve_precision("auto", cuda, FP32_ONLY) == "fp32"


def test_bf16_on_cpu_runs_when_asked_and_stays_close_to_fp32() -> None:
    img = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    torch.manual_seed(1)
    reference = create_model("saphnet-test")
    with torch.no_grad():
        for p in reference.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    fp32 = Deblurrer(reference, device="cpu", tile=0).restore(img)
    twin = create_model("saphnet-test")
    twin.load_state_dict(state)
    d = Deblurrer(twin, device="cpu", precision="bf16", tile=0)
    assert d.dtype == torch.bfloat16 and next(d.model.parameters()).dtype == torch.bfloat16
    out = d.restore(img)
    assert out.dtype == np.uint8
    diff = np.abs(out.astype(int) - fp32.astype(int))
    assert diff.mean() < 3 and not np.array_equal(out, fp32)  # really ran in bf16, and close


def test_host_memory_figure_is_plausible() -> None:
    free = host_available_bytes()
    assert 0 < free < 1 << 50


def test_auto_tile_fits_the_memory_and_keeps_within_bounds() -> None:
    assert auto_tile(1440 * 512 * 512, 1440, multiple=16, cap=1024) == 512
    assert auto_tile(1440 * 500 * 500, 1440, multiple=16, cap=1024) == 496
    assert auto_tile(1e15, 1440, multiple=16, cap=1024) == 1024
    assert auto_tile(10.0, 1440, multiple=16, cap=1024) == 128
    assert auto_tile(-5.0, 1440, multiple=48, cap=1024) == 144
