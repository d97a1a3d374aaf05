"""Writing the figures (`<stem>.<view>.png`, through `io.write_image`) and the raw maps (`<stem>.maps.npz`),
both atomically."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from ..errors import ImageWriteError, OutputExistsError
from ..io import write_image
from . import figures
from .canvas import to_display_rgb

if TYPE_CHECKING:
    from ..engine.maps import Maps

logger = logging.getLogger(__name__)

VIEWS: tuple[str, ...] = ("heatmap", "sampled", "attention", "offsets", "compare")
"""Every figure `write_visualisations` can draw, in the order it draws them."""


def view_path(out_stem: Path, view: str) -> Path:
    """Where a view is written: `<out_stem>.<view>.png` (the stem keeps any dots it has)."""
    return out_stem.with_name(f"{out_stem.name}.{view}.png")


def raw_maps_path(out_stem: Path) -> Path:
    """Where `save_raw_maps` writes: `<out_stem>.maps.npz`."""
    return out_stem.with_name(f"{out_stem.name}.maps.npz")


def write_visualisations(photo: np.ndarray, result: np.ndarray, maps: Maps, out_stem: Path,
                         which: Sequence[str], *, overwrite: bool = False, stage: int | None = None,
                         attention: str | None = None, offsets: str | None = None) -> list[Path]:
    """Draw the requested views of one restoration and write each to `<out_stem>.<view>.png`.

    `stage` picks the refinement stage (2..S) for heatmap and compare (default 2); `attention` / `offsets`
    name the recorded map to draw (a full name or a CAPM prefix; default: the whole-image level's last
    decoder CAPM). Nothing is written if any output exists and `overwrite` is False.

    Raises:
        ValueError: an unknown view, stage or map name, or arrays of the wrong shape.
        OutputExistsError: an output exists and `overwrite` is False.
        ImageWriteError: a file could not be written.
    """
    unknown = [v for v in which if v not in VIEWS]
    if unknown:
        raise ValueError(f"unknown view(s) {', '.join(unknown)}; choose from {', '.join(VIEWS)}")
    views = [v for v in VIEWS if v in which]
    targets = {v: view_path(Path(out_stem), v) for v in views}
    _refuse_existing(list(targets.values()), overwrite)
    photo_rgb = to_display_rgb(photo)
    renderers: dict[str, Callable[[], np.ndarray]] = {
        "heatmap": lambda: figures.render_heatmap(photo_rgb, maps, stage=stage),
        "sampled": lambda: figures.render_sampled(photo_rgb, maps),
        "attention": lambda: figures.render_attention(photo_rgb, maps, name=attention),
        "offsets": lambda: figures.render_offsets(photo_rgb, maps, name=offsets),
        "compare": lambda: figures.render_compare(photo_rgb, to_display_rgb(result), maps, stage=stage),
    }
    written = []
    for view, target in targets.items():
        write_image(target, renderers[view](), format="png", overwrite=overwrite)
        logger.debug("wrote %s", target)
        written.append(target)
    return written


def save_raw_maps(maps: Maps, out_stem: Path, *, overwrite: bool = False) -> Path:
    """Write the maps at the model's resolution to `<out_stem>.maps.npz` and return that path.

    Keys: `difficulty` (S-1, h, w) float32, `chosen` (S-1, h, w) bool, `cell` (int), and one
    `attention/<name>` (M, h', w') and `offsets/<name>` (2k^2, h', w') per recorded map, with
    `scale/<name>` (photo pixels per map pixel) where the maps carry it.

    Raises:
        OutputExistsError: the file exists and `overwrite` is False.
        ImageWriteError: it could not be written.
    """
    target = raw_maps_path(Path(out_stem))
    _refuse_existing([target], overwrite)
    arrays: dict[str, np.ndarray] = {
        "difficulty": np.asarray(maps.difficulty, dtype=np.float32),
        "chosen": np.asarray(maps.chosen, dtype=bool),
        "cell": np.asarray(maps.cell, dtype=np.int64),
    }
    arrays.update({f"attention/{k}": np.asarray(v, dtype=np.float32) for k, v in maps.attention.items()})
    arrays.update({f"offsets/{k}": np.asarray(v, dtype=np.float32) for k, v in maps.offsets.items()})
    arrays.update({f"scale/{k}": np.asarray(s, dtype=np.int64) for k, s in maps.scale.items()})

    _atomic_write(target, lambda f: np.savez_compressed(f, **arrays))
    return target


def _refuse_existing(paths: Sequence[Path], overwrite: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{existing[0]} exists (use --overwrite to replace it)")


def _atomic_write(path: Path, save: Callable[[BinaryIO], None]) -> None:
    """Run `save(file)` on a new file beside `path` (plain permissions under the umask), then rename it
    over `path`, so a reader never sees a partial file."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "xb") as f:
            save(f)
        os.replace(temp, path)
    except OSError as exc:
        raise ImageWriteError(f"{path}: {exc.strerror or exc}") from exc
    finally:
        temp.unlink(missing_ok=True)
