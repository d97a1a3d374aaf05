"""`Deblurrer`: the one inference path (CLI, benchmarks, evaluation): device, precision, padding, tiling."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from ..errors import DeviceError, ImageSizeError, NumericalError
from ..model import DEFAULT_PRESET, SAPHNet, SAPHNetOutput
from ..model.saphnet import pad_to_multiple
from .convert import check_image, color_channels, from_network, to_network
from .devices import (
    DTYPES,
    Precision,
    device_free_bytes,
    host_available_bytes,
    resolve_device,
    resolve_precision,
)
from .sizing import auto_tile, network_bytes_per_pixel
from .tiling import Layers, Progress, TileFn, stitch_with_retry

logger = logging.getLogger(__name__)

Budget = float | Sequence[float] | None
Tile = Literal["auto"] | int

MIN_TILE = 64
"""Smallest tile the out-of-memory retry goes down to (rounded up to the size multiple)."""
CPU_TILE_CAP = 512
"""Largest automatic tile on CPU. Time per pixel grows with the tile once feature maps outgrow the caches:
saphnet-s on 2 cores took 35 s for an 8 MP photo in 512 px tiles, 40 s in 768, 57 s with the 1024 cap (38 s in
384); val/gopro PSNR was the same at 512 as at 1024 (28.233 against 28.226 dB)."""
MPS_TILE_CAP = 1024
"""Largest automatic tile on Apple MPS (not measured; a GPU, so larger than on CPU)."""
CUDA_TILE_CAP = 2048
CUDA_FREE_SHARE = 0.6
"""Share of free GPU memory an automatic tile may plan to use (the rest: allocator slack, workspaces)."""
HOST_FREE_SHARE = 0.5
"""Share of available RAM, after the result canvases, an automatic tile may plan to use on CPU/MPS."""


@dataclass
class Maps:
    """What the network did where, stitched over tiles, at the model's resolution for the whole image.

    A map at scale s has ceil(H / s) x ceil(W / s) pixels, pixel (i, j) covering image pixels
    [i s, (i + 1) s) x [j s, (j + 1) s): only cells that touch the image are kept, never padding.
    """

    difficulty: np.ndarray
    """(S - 1, ceil(H / cell), ceil(W / cell)) float32: each refinement stage's P_s, blended over tiles."""
    chosen: np.ndarray
    """Same shape, bool: cells a stage refined (the blended 0/1 choice of the covering tiles >= 0.5)."""
    attention: dict[str, np.ndarray]
    """name -> (M, h, w) float32, each map renormalised to sum to 1 over the image."""
    offsets: dict[str, np.ndarray]
    """name -> (2 k^2, h, w) float32: (dy, dx) per filter tap, in pixels of that map."""
    cell: int
    """Image pixels per side of a sampling cell."""
    scale: dict[str, int] = field(default_factory=dict)
    """Image pixels per map pixel, for every name in `attention` and `offsets`."""


class Deblurrer:
    """Restores images with a SAPHNet: converts pixels, runs overlapping tiles on the device, blends them.

    Holds only the model and settings, never an image, so one Deblurrer can restore many images (from
    several threads too). The model is moved to the device and precision and put in eval mode in place.
    """

    def __init__(
        self,
        model: SAPHNet,
        *,
        device: str | torch.device = "auto",
        precision: Precision = "auto",
        tile: Tile = "auto",
        tile_overlap: int = 32,
        budget: Budget = None,
        untrained: bool = False,
    ) -> None:
        multiple = model.descriptor.size_multiple
        if tile != "auto" and (isinstance(tile, bool) or not isinstance(tile, int) or tile < 0):
            raise ValueError(f"tile must be 'auto', 0 (no tiling) or a size in pixels, got {tile!r}")
        if isinstance(tile_overlap, bool) or not isinstance(tile_overlap, int) or tile_overlap < 0:
            raise ValueError(f"tile_overlap must be a number of pixels >= 0, got {tile_overlap!r}")
        model.resolve_budget(budget)
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device, model.descriptor)
        self.dtype = DTYPES[self.precision]
        self.tile: Tile = tile if tile in ("auto", 0) else max(multiple, tile // multiple * multiple)
        self.tile_overlap = tile_overlap
        self.budget = budget
        self.untrained = untrained
        # channels_last: oneDNN (CPU) and cuDNN run NHWC convolutions without per-call layout reorders, and
        # the network's attention reads NHWC as free pixel-major views (measured on CPU: docs/performance.md).
        nhwc = self.device.type in ("cpu", "cuda")
        self.memory_format = torch.channels_last if nhwc else torch.contiguous_format
        self.model = model.to(device=self.device, memory_format=self.memory_format)
        self.model = self.model.to_inference_dtype(self.dtype).eval()
        if self.dtype != torch.float32 and self.device.type != "cuda":
            self._probe()
        if untrained:
            logger.info("no trained weights: running an untrained network (its output is about its input)")

    @classmethod
    def from_pretrained(
        cls,
        model: str = DEFAULT_PRESET,
        *,
        weights: str | None = None,
        device: str | torch.device = "auto",
        precision: Precision = "auto",
        tile: Tile = "auto",
        tile_overlap: int = 32,
        budget: Budget = None,
        revision: str | None = None,
        offline: bool | None = None,
    ) -> Deblurrer:
        """A Deblurrer for a preset's weights (or `weights`: a folder, file or hub repo id), resolved
        by `deblur_cli.weights.load_model`; falls back to an untrained network (see `.untrained`).

        Raises:
            ValueError: an unknown preset or an option out of range.
            WeightsError: weights not found, not verified or not loadable (one line, as the CLI shows it).
            DeviceError: the device or precision is not available.
        """
        # Imported here: wrapping a model in memory must not need the hub client.
        from ..weights import load_model

        net, source = load_model(weights, preset=model, revision=revision, offline=offline)
        return cls(net, device=device, precision=precision, tile=tile, tile_overlap=tile_overlap,
                   budget=budget, untrained=source.kind == "untrained")

    def restore(self, img: np.ndarray, *, progress: Progress | None = None) -> np.ndarray:
        """Deblur an H x W x C image (uint8, uint16 or float32; C in 1, 3, 4); same dtype and shape back.

        `progress(done_tiles, total_tiles)` is called after every tile.

        Raises:
            ValueError: not an image array of a supported dtype and shape.
            ImageSizeError: too small for the network, or its result would not fit in memory.
            NumericalError: the network gave NaN or infinite values.
        """
        canvases = self._run(img, progress, record=False, map_names=None)
        return from_network(canvases["image"][1], img)

    def restore_with_maps(
        self, img: np.ndarray, *, progress: Progress | None = None, map_names: Collection[str] | None = None
    ) -> tuple[np.ndarray, Maps]:
        """`restore`, plus the sampling, attention and offset maps stitched over the whole image.

        `map_names` keeps only those attention/offset maps (all when None): whole-image maps of large
        photos take memory.
        """
        canvases = self._run(img, progress, record=True, map_names=map_names)
        cell = self.model.config.cell
        grid = (-(-img.shape[0] // cell), -(-img.shape[1] // cell))
        empty = np.zeros((0, *grid), dtype=np.float32)
        attention, offsets, scale = {}, {}, {}
        for key, (s, data) in canvases.items():
            kind, _, name = key.partition(":")
            if kind == "attention":
                data /= np.maximum(data.sum(axis=(1, 2), keepdims=True), np.finfo(np.float32).tiny)
                attention[name] = data
            elif kind == "offsets":
                offsets[name] = data
            if name:
                scale[name] = s
        maps = Maps(
            difficulty=canvases["difficulty"][1] if "difficulty" in canvases else empty,
            chosen=canvases["chosen"][1] >= 0.5 if "chosen" in canvases else empty.astype(bool),
            attention=attention,
            offsets=offsets,
            cell=cell,
            scale=scale,
        )
        return from_network(canvases["image"][1], img), maps

    def _run(
        self, img: np.ndarray, progress: Progress | None, *, record: bool, map_names: Collection[str] | None
    ) -> Layers:
        check_image(img)
        height, width = img.shape[:2]
        descriptor = self.model.descriptor
        if height == 0 or width == 0 or min(height, width) < descriptor.min_size:
            raise ImageSizeError(f"image of {width}x{height} pixels is too small: each side needs at least "
                                 f"{max(descriptor.min_size, 1)} pixels")
        result_bytes = img.nbytes + 4 * color_channels(img) * height * width
        self._reserve_host(result_bytes, width, height)
        if self.model.training:
            self.model.eval()
        multiple = descriptor.size_multiple
        with torch.inference_mode():
            return stitch_with_retry(
                height, width, self._tile_fn(img, record=record, map_names=map_names),
                tile=self._tile_size(result_bytes), overlap=self.tile_overlap, align=multiple,
                min_tile=-(-MIN_TILE // multiple) * multiple, progress=progress,
                reserve=lambda canvas_bytes: self._reserve_host(img.nbytes + canvas_bytes, width, height),
            )

    def _tile_fn(self, img: np.ndarray, *, record: bool, map_names: Collection[str] | None) -> TileFn:
        """The per-tile callable: convert the patch, pad it to the size multiple, run, crop back."""
        multiple = self.model.descriptor.size_multiple
        cell = self.model.config.cell
        gray = color_channels(img) == 1

        def run(box: tuple[int, int, int, int]) -> Layers:
            y0, y1, x0, x1 = box
            h, w = y1 - y0, x1 - x0
            x = torch.from_numpy(to_network(img[y0:y1, x0:x1]))[None].to(self.device, self.dtype)
            x = pad_to_multiple(x, multiple).contiguous(memory_format=self.memory_format)
            out = self.model(x, record=record, budget=self.budget)
            image = out.image[0, :, :h, :w].float()
            if not torch.isfinite(image).all():
                raise NumericalError(f"the network gave NaN or infinite values in tile {box} (damaged "
                                     f"weights, or {self.precision} overflowing on {self.device})")
            if gray:  # the mean of the three channels as an RGB result would show them
                image = image.clamp(0.0, 1.0).mean(dim=0, keepdim=True)
            layers = {"image": (1, image.cpu().numpy())}
            if record:
                layers.update(_map_layers(out, h, w, cell, map_names))
            return layers

        return run

    def _tile_size(self, result_bytes: int) -> int:
        """The tile side to start with: as set, or from the memory free where tiles run."""
        if self.tile != "auto":
            return self.tile
        per_pixel = network_bytes_per_pixel(self.model.config, self.dtype)
        multiple = self.model.descriptor.size_multiple
        if self.device.type == "cuda":
            return auto_tile(CUDA_FREE_SHARE * device_free_bytes(self.device), per_pixel,
                             multiple=multiple, cap=CUDA_TILE_CAP)
        free = HOST_FREE_SHARE * (device_free_bytes(self.device) - result_bytes)
        cap = CPU_TILE_CAP if self.device.type == "cpu" else MPS_TILE_CAP
        return auto_tile(free, per_pixel, multiple=multiple, cap=cap)

    @staticmethod
    def _reserve_host(need: int, width: int, height: int) -> None:
        """ImageSizeError when the image's host-side arrays would not fit in available RAM."""
        available = host_available_bytes()
        if need > available:
            raise ImageSizeError(f"image of {width}x{height} pixels is too large: its result needs about "
                                 f"{need / 2**30:.1f} GiB of memory, {available / 2**30:.1f} GiB available")

    def _probe(self) -> None:
        """Run a tiny input once, so a precision this device or torch build cannot run fails here, clearly."""
        m = self.model.descriptor.size_multiple
        try:
            with torch.inference_mode():
                self.model(torch.zeros(1, 3, m, m, device=self.device, dtype=self.dtype))
        except (RuntimeError, NotImplementedError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise DeviceError(f"{self.precision} does not run on {self.device} with this torch build "
                              f"({reason})") from err


def _map_layers(
    out: SAPHNetOutput, h: int, w: int, cell: int, map_names: Collection[str] | None
) -> Layers:
    """A tile's maps as stitchable layers, cropped to the cells/pixels that touch the tile's own box."""
    padded_h, padded_w = out.image.shape[-2:]
    layers: Layers = {}
    if out.difficulty:
        rows, cols = -(-h // cell), -(-w // cell)
        for key, grids in (("difficulty", out.difficulty), ("chosen", out.chosen)):
            layers[key] = (cell, torch.cat([g[0] for g in grids]).float()[:, :rows, :cols].cpu().numpy())
    for kind, maps in (("attention", out.attention), ("offsets", out.offsets)):
        for name, data in maps.items():
            if map_names is not None and name not in map_names:
                continue
            scale = padded_h // data.shape[-2]
            if (scale * data.shape[-2], scale * data.shape[-1]) != (padded_h, padded_w):
                raise ValueError(f"map {name!r} of shape {tuple(data.shape)} is not the tile "
                                 f"({padded_h}x{padded_w}) at an integer scale")
            crop = data[0, :, : -(-h // scale), : -(-w // scale)]
            layers[f"{kind}:{name}"] = (scale, crop.float().cpu().numpy())
    return layers
