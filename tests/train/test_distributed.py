"""`deblur train` under `torchrun` with two CPU processes (gloo): DistributedDataParallel through all three
phases of the schedule, including the ones where the policy or the refiners sit idle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblur_cli.train.trainer import CHECKPOINT


@pytest.mark.skipif(not torch.distributed.is_available() or shutil.which("torchrun") is None,
                    reason="needs torch.distributed and torchrun")
def test_two_process_ddp_run_goes_through_every_phase(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        pixels = np.random.default_rng(i).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(photos / f"{i}.png")
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        "-m", "deblur_cli", "train", "-o", str(out), "--preset", "saphnet-test", "--sharp", str(photos),
        "--steps", "6", "--crop", "32", "--batch-size", "2", "--stage1-steps", "2", "--random-steps", "2",
        "--warmup", "1", "--threads", "1", "--checkpoint-every", "3", "--val-every", "100",
        "--export", str(tmp_path / "export"), "-q",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    steps = [r for r in records if "phase" in r]
    assert [r["phase"] for r in steps] == ["stage1"] * 2 + ["random"] * 2 + ["policy"] * 2  # rank 0 logs
    state = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=False)
    assert state["step"] == 6
    assert (tmp_path / "export" / "model.safetensors").is_file()
