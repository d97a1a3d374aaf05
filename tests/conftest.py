"""Fixtures shared by every test folder."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import torch

from deblur_cli.engine import devices
from deblur_cli.model import create_model
from deblur_cli.weights import save_pretrained


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(autouse=True, scope="session")
def _fp32_cpu() -> Iterator[None]:
    """Tests, and the processes they start, see a CPU without native bf16, so `--precision auto` means fp32
    whatever machine runs them; tests of the bf16 choice set DEBLUR_CPU_BF16 themselves."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEBLUR_CPU_BF16", "0")
        devices.cpu_runs_bf16.cache_clear()
        yield
    devices.cpu_runs_bf16.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_bf16_check() -> Iterator[None]:
    """A test that changes DEBLUR_CPU_BF16 leaves no cached answer behind."""
    yield
    devices.cpu_runs_bf16.cache_clear()


@pytest.fixture
def deadline() -> Callable[[int], AbstractContextManager[None]]:
    """`with deadline(5):` fails the test (SIGALRM) when the block is still running after 5 s, instead
    of letting a blocking call hang the suite."""
    return _deadline


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny weights that change their input (an untrained network starts as the identity)."""
    torch.manual_seed(0)
    model = create_model("saphnet-test")
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.02)
    folder = tmp_path_factory.mktemp("weights")
    save_pretrained(model, folder, preset="saphnet-test", dtype=torch.float32)
    return folder
