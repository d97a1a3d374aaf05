from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblur_cli.errors import OutputExistsError
from deblur_cli.viz import VIEWS, save_raw_maps, write_visualisations


def test_writes_every_view_as_png(tmp_path: Path, maps_for, photo: np.ndarray) -> None:
    maps = maps_for(40, 56)
    maps.difficulty[0, 1, 1] = 0.8
    maps.chosen[0, 1, 1] = True
    photo16 = photo.astype(np.uint16) * 257  # 16-bit input, as read_image gives it
    stem = tmp_path / "out" / "shot.v2"
    written = write_visualisations(photo16, photo16, maps, stem, VIEWS)
    assert [p.name for p in written] == [f"shot.v2.{v}.png" for v in VIEWS]
    for path in written:
        with Image.open(path) as im:
            assert im.format == "PNG" and im.mode == "RGB"
            assert im.width > 56 and im.height >= 40
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temp files left


def test_heatmap_panel_keeps_the_photo_size(tmp_path: Path, maps_for) -> None:
    maps = maps_for(37, 53)
    maps.difficulty[0, 0, 0] = 1.0
    gray = np.full((37, 53), 90, np.uint8)
    [path] = write_visualisations(gray, gray, maps, tmp_path / "g", ["heatmap"])
    pixels = np.asarray(Image.open(path))
    assert pixels.shape[0] >= 37
    hot, cold = pixels[0, 0].astype(int), pixels[36, 52].astype(int)
    assert hot.sum() > cold.sum() + 300  # the P=1 cell at the top left, P=0 at the bottom right


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path, maps_for, photo: np.ndarray) -> None:
    maps = maps_for(40, 56)
    stem = tmp_path / "shot"
    existing = tmp_path / "shot.sampled.png"
    existing.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match="shot.sampled.png"):
        write_visualisations(photo, photo, maps, stem, ["heatmap", "sampled"])
    assert not (tmp_path / "shot.heatmap.png").exists()
    assert existing.read_bytes() == b"keep me"
    write_visualisations(photo, photo, maps, stem, ["heatmap", "sampled"], overwrite=True)
    assert existing.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rejects_unknown_views_and_stages(tmp_path: Path, maps_for, photo: np.ndarray) -> None:
    maps = maps_for(40, 56)
    with pytest.raises(ValueError, match="unknown view"):
        write_visualisations(photo, photo, maps, tmp_path / "s", ["heatmap", "histogram"])
    with pytest.raises(ValueError, match="stage"):
        write_visualisations(photo, photo, maps, tmp_path / "s", ["heatmap"], stage=7)


def test_raw_maps_npz(tmp_path: Path, maps_for) -> None:
    maps = maps_for(40, 56, cell=8, stages=3, maps_m=4, taps=9)
    maps.difficulty[1, 2, 3] = 0.25
    maps.chosen[0, 4, 6] = True
    maps.scale = {k: 2 if ".stacks.1." in k else 1 for k in [*maps.attention, *maps.offsets]}
    path = save_raw_maps(maps, tmp_path / "shot")
    assert path == tmp_path / "shot.maps.npz"
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # a plain file, not a private temp file
    assert [p.name for p in tmp_path.iterdir()] == ["shot.maps.npz"]
    with np.load(path) as raw:
        assert raw["difficulty"].shape == (2, 5, 7) and raw["difficulty"].dtype == np.float32
        assert raw["difficulty"][1, 2, 3] == pytest.approx(0.25)
        assert raw["chosen"].dtype == bool and raw["chosen"].sum() == 1 and raw["chosen"][0, 4, 6]
        assert int(raw["cell"]) == 8
        attention = {k for k in raw.files if k.startswith("attention/")}
        offsets = {k for k in raw.files if k.startswith("offsets/")}
        assert attention == {f"attention/{k}" for k in maps.attention}
        assert offsets == {f"offsets/{k}" for k in maps.offsets}
        name = "hierarchy.decoders.0.stacks.1.blocks.0.capm"
        assert raw[f"attention/{name}.global_branch"].shape == (4, 20, 28)
        assert raw[f"offsets/{name}.local_branch"].shape == (18, 20, 28)
        assert int(raw[f"scale/{name}.local_branch"]) == 2
    with pytest.raises(OutputExistsError):
        save_raw_maps(maps, tmp_path / "shot")
    assert save_raw_maps(maps, tmp_path / "shot", overwrite=True) == path
