"""`deblur run --device A,B`: one worker process per device sharing one batch (two CPU workers here, which
exercises the same spawn/queue/summary path that `cuda:0,cuda:1` takes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner, Result

from deblur_cli.batch.spread import split_devices
from deblur_cli.cli import app, with_default_command
from deblur_cli.errors import DeblurError
from deblur_cli.io import read_image


def deblur(*args: object) -> Result:
    return CliRunner().invoke(app, with_default_command([str(a) for a in args]))


def _photos(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        pixels = np.random.default_rng(i).integers(0, 256, (40 + 8 * i, 56, 3), dtype=np.uint8)
        paths.append(folder / f"p{i}.png")
        Image.fromarray(pixels).save(paths[-1])
    return paths


def test_two_workers_do_the_whole_batch_like_one_process(tmp_path: Path, weights: Path) -> None:
    photos = _photos(tmp_path / "in", 4)
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    common = ("-m", "saphnet-test", "-w", weights)
    spread = deblur("run", tmp_path / "in", "-o", tmp_path / "spread", "--device", "cpu,cpu", *common)
    assert spread.exit_code == 1, spread.output
    assert "4 done, 0 skipped, 1 failed" in spread.stdout
    errors = [line for line in spread.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.png" in errors[0]
    single = deblur("run", *photos, "-o", tmp_path / "single", "--device", "cpu", *common)
    assert single.exit_code == 0, single.output
    for photo in photos:
        a = read_image(tmp_path / "spread" / photo.name).pixels.astype(int)
        b = read_image(tmp_path / "single" / photo.name).pixels.astype(int)
        assert a.shape == b.shape and np.abs(a - b).max() <= 1  # thread counts may round one level apart
        assert np.abs(a - read_image(photo).pixels.astype(int)).max() > 0
    assert sorted(p.name for p in (tmp_path / "spread").iterdir()) == [p.name for p in photos]


def test_workers_that_cannot_load_fail_every_photo_with_the_reason(tmp_path: Path) -> None:
    _photos(tmp_path / "in", 2)
    result = deblur("run", tmp_path / "in", "-o", tmp_path / "out", "--device", "cpu,cpu",
                    "-m", "saphnet-test", "-w", tmp_path / "missing.safetensors")
    assert result.exit_code == 1
    assert "0 done, 0 skipped, 2 failed" in result.stdout
    assert "no worker left" in result.stdout and "missing.safetensors" in result.stdout
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_device_lists_are_checked_before_any_worker_starts(tmp_path: Path) -> None:
    with pytest.raises(DeblurError, match="empty entry"):
        split_devices("cpu,,cpu")
    assert split_devices(" cpu , cpu ") == [torch.device("cpu")] * 2
    _photos(tmp_path, 1)
    bad = deblur("run", tmp_path / "p0.png", "--device", "cpu,warp9", "-m", "saphnet-test")
    assert bad.exit_code == 2 and "unknown device 'warp9'" in bad.output  # bad spelling is bad usage
    assert not (tmp_path / "p0_deblurred.png").exists()
