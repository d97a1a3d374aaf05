"""`deblur_batch` in this process: the events it reports, in order, and the summary they add up to."""

from __future__ import annotations

import errno
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblur_cli.batch import (
    EngineOptions,
    Event,
    OutputOptions,
    PhotoDone,
    PhotoFailed,
    PhotoSkipped,
    PhotoStarted,
    Started,
    Stopped,
    Summary,
    TilesDone,
    Untrained,
    deblur_batch,
    plan_batch,
)
from deblur_cli.batch.events import failure_reason
from deblur_cli.errors import DeblurError

ENGINE = EngineOptions(model="saphnet-test", device="cpu", threads=1)


def _photos(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(np.full((24, 32, 3), 40 * i, np.uint8)).save(folder / f"p{i}.png")


def _run(inputs: list[Path], output: OutputOptions, engine: EngineOptions = ENGINE) -> list[Event]:
    events: list[Event] = []
    deblur_batch(plan_batch(inputs, output), engine, output, events.append)
    return events


def test_events_in_order_and_their_summary(tmp_path: Path) -> None:
    _photos(tmp_path / "in", 2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "p1.png").write_bytes(b"mine")
    events = _run([tmp_path / "in"], OutputOptions(out=tmp_path / "out", skip_existing=True))
    kinds = [type(e) for e in events if not isinstance(e, TilesDone)]
    assert kinds == [PhotoSkipped, Untrained, Started, PhotoStarted, PhotoDone]
    summary = Summary()
    for event in events:
        summary.add(event)
    assert summary.done == [tmp_path / "in" / "p0.png"]
    assert summary.skipped == [(tmp_path / "in" / "p1.png", f"{tmp_path / 'out' / 'p1.png'} exists")]
    assert not summary.failed


def test_a_full_disk_stops_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _photos(tmp_path / "in", 3)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    events = _run([tmp_path / "in"], OutputOptions(out=tmp_path / "out"))
    failed = [e for e in events if isinstance(e, PhotoFailed)]
    assert len(failed) == 1 and "p0.png" in failed[0].reason
    assert events[-1] == Stopped("the disk is full", (tmp_path / "in" / "p1.png", tmp_path / "in" / "p2.png"))
    summary = Summary()
    summary.add(events[-1])
    assert summary.failed[0] == (tmp_path / "in" / "p1.png", f"{tmp_path / 'in' / 'p1.png'}: not started "
                                 "(the disk is full)")


def test_what_cannot_start_raises(tmp_path: Path) -> None:
    _photos(tmp_path, 1)
    with pytest.raises(DeblurError, match="stage must be between 2 and 3"):
        _run([tmp_path], OutputOptions(out=tmp_path / "figs", photo=False, views=("heatmap",), stage=9))
    with pytest.raises(DeblurError, match="empty entry"):
        _run([tmp_path], OutputOptions(out=tmp_path / "out"), replace(ENGINE, device="cpu,"))
    with pytest.raises(ValueError, match="tile"):
        _run([tmp_path], OutputOptions(out=tmp_path / "out"), replace(ENGINE, tile="-1"))
    assert not (tmp_path / "out").exists() and not (tmp_path / "figs").exists()


def test_a_failure_is_one_line_naming_the_photo_once() -> None:
    path = Path("shots/p.png")
    assert failure_reason(path, DeblurError("shots/p.png: not\n  an image")) == "shots/p.png: not an image"
    assert failure_reason(path, MemoryError()) == "shots/p.png: out of memory"
    assert failure_reason(path, torch.cuda.OutOfMemoryError()) == "shots/p.png: OutOfMemoryError"
