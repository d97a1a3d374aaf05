"""The one planner of `deblur run` and `deblur heatmap`: outputs named, earlier results skipped, clashes and
existing outputs refused before any work."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblur_cli.batch import OutputOptions, plan_batch

FIGURES = OutputOptions(photo=False, views=("heatmap", "sampled"), raw=True)


def _photos(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / name)


def test_run_and_heatmap_name_their_outputs_alike(tmp_path: Path) -> None:
    _photos(tmp_path / "in", "a.png", "sub/b.jpg")
    out = tmp_path / "out"
    run = plan_batch([tmp_path / "in"], OutputOptions(out=out, views=("heatmap",)), recursive=True)
    assert [job.target for job in run.todo] == [out / "a.png", out / "sub" / "b.jpg"]
    assert run.todo[0].outputs(OutputOptions(views=("heatmap",))) == [out / "a.png", out / "a.heatmap.png"]
    figures = plan_batch([tmp_path / "in"], OutputOptions(out=out, photo=False, views=("heatmap",)),
                         recursive=True)
    assert [job.outputs(FIGURES) for job in figures.todo] == [
        [out / "a.heatmap.png", out / "a.sampled.png", out / "a.maps.npz"],
        [out / "sub" / "b.heatmap.png", out / "sub" / "b.sampled.png", out / "sub" / "b.maps.npz"]]


def test_earlier_results_are_skipped_and_figures_may_go_beside_their_photos(tmp_path: Path) -> None:
    _photos(tmp_path, "a.png", "a_deblurred.png", "a_deblurred.heatmap.png")
    run = plan_batch([tmp_path], OutputOptions())
    assert [(job.item.path.name, job.skipped) for job in run.jobs if job.skipped] == [
        ("a_deblurred.heatmap.png", f"a result of {tmp_path / 'a.png'}"),
        ("a_deblurred.png", f"a result of {tmp_path / 'a.png'}")]
    figures = plan_batch([tmp_path], OutputOptions(out=tmp_path, photo=False, views=("sampled",)))
    assert [job.target for job in figures.todo] == [tmp_path / "a.png", tmp_path / "a_deblurred.png"]


def test_shared_and_existing_outputs_fail_before_any_work(tmp_path: Path) -> None:
    _photos(tmp_path / "in", "a.png", "a.jpg", "b.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.heatmap.png").write_bytes(b"mine")
    output = OutputOptions(out=out, photo=False, views=("heatmap",))
    failed = {job.item.path.name: job.failed for job in plan_batch([tmp_path / "in"], output).jobs}
    assert failed["a.jpg"] is None
    assert failed["a.png"] == f"{tmp_path / 'in' / 'a.png'}: same output {out / 'a.heatmap.png'} as " \
                              f"{tmp_path / 'in' / 'a.jpg'}"
    assert failed["b.png"] == f"{out / 'b.heatmap.png'}: already exists (use --overwrite to replace it)"
    again = plan_batch([tmp_path / "in"], replace(output, overwrite=True))
    assert [job.item.path.name for job in again.todo] == ["a.jpg", "b.png"]


def test_nothing_to_plan_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no images found"):
        plan_batch([tmp_path], OutputOptions())
    _photos(tmp_path, "p.png")
    with pytest.raises(ValueError, match="names a PNG file, not jpg"):
        plan_batch([tmp_path / "p.png"], OutputOptions(out=tmp_path / "o.png", format="jpg"))
