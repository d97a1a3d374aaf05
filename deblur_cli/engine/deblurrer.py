"""`Deblurrer`: the one inference path (CLI, benchmarks, evaluation): device, precision, padding, tiling.

It knows a network only by its `ModelDescriptor`: what it pads to, the precisions it runs, how much memory a
tile takes, and the call that runs it. Building one from weights is `deblur_cli.pretrained`'s job."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Literal

import numpy as np
import torch
from torch import nn

from ..errors import DeviceError, ImageSizeError, NumericalError
from ..model.descriptor import Budget, ModelDescriptor, pad_to_multiple
from .allocator import keep_freed_memory
from .convert import check_image, color_channels, from_network, to_network
from .devices import (
    DTYPES,
    Precision,
    device_free_bytes,
    host_available_bytes,
    resolve_device,
    resolve_precision,
)
from .ensemble import ensemble_views
from .maps import Maps, map_layers, whole_image_maps
from .sizing import auto_tile
from .tiling import Layers, Progress, TileFn, stitch_with_retry

logger = logging.getLogger(__name__)

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


class Deblurrer:
    """Restores images with a network that has a `descriptor` (SAPHNet, a published network): converts
    pixels, runs overlapping tiles on the device, blends them. With `ensemble` > 1 each tile runs in that
    many flipped and transposed views, averaged (`ensemble.py`).

    Holds only the model and settings, never an image, so one Deblurrer can restore many images (from
    several threads too). The model is moved to the device and precision and put in eval mode in place.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        device: str | torch.device = "auto",
        precision: Precision = "auto",
        tile: Tile = "auto",
        tile_overlap: int = 32,
        budget: Budget = None,
        ensemble: int = 1,
        untrained: bool = False,
    ) -> None:
        descriptor: ModelDescriptor = model.descriptor
        multiple = descriptor.size_multiple
        if tile != "auto" and (isinstance(tile, bool) or not isinstance(tile, int) or tile < 0):
            raise ValueError(f"tile must be 'auto', 0 (no tiling) or a size in pixels, got {tile!r}")
        if isinstance(tile_overlap, bool) or not isinstance(tile_overlap, int) or tile_overlap < 0:
            raise ValueError(f"tile_overlap must be a number of pixels >= 0, got {tile_overlap!r}")
        self.descriptor = descriptor
        self.fractions = descriptor.resolve_budget(budget)
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device, descriptor)
        self.dtype = DTYPES[self.precision]
        self.tile: Tile = tile if tile in ("auto", 0) else max(multiple, tile // multiple * multiple)
        self.tile_overlap = tile_overlap
        self.budget = budget  # as given, for reports; every tile runs with `fractions`
        self.views = ensemble_views(ensemble)
        self.untrained = untrained
        # channels_last: oneDNN (CPU) and cuDNN run NHWC convolutions without per-call layout reorders, and
        # the network's attention reads NHWC as free pixel-major views (measured on CPU: docs/performance.md).
        nhwc = self.device.type in ("cpu", "cuda")
        self.memory_format = torch.channels_last if nhwc else torch.contiguous_format
        if self.device.type == "cpu":
            keep_freed_memory()
        self.model = model.to(device=self.device, memory_format=self.memory_format)
        self.model = descriptor.to_dtype(self.model, self.dtype).eval()
        if self.dtype != torch.float32 and self.device.type != "cuda":
            self._probe()
        if untrained:
            logger.info("no trained weights: running an untrained network (its output is about its input)")

    @property
    def ensemble(self) -> int:
        """Passes per tile: the number of views averaged."""
        return len(self.views)

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
        maps = whole_image_maps(canvases, img.shape[0], img.shape[1], self.descriptor.cell)
        return from_network(canvases["image"][1], img), maps

    def _run(
        self, img: np.ndarray, progress: Progress | None, *, record: bool, map_names: Collection[str] | None
    ) -> Layers:
        check_image(img)
        height, width = img.shape[:2]
        descriptor = self.descriptor
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
        descriptor = self.descriptor
        gray = color_channels(img) == 1

        def run(box: tuple[int, int, int, int]) -> Layers:
            y0, y1, x0, x1 = box
            h, w = y1 - y0, x1 - x0
            x = torch.from_numpy(to_network(img[y0:y1, x0:x1]))[None].to(self.device, self.dtype)
            recorded, total = None, None
            for k, view in enumerate(self.views):  # the identity first: its pass records the maps
                seen = view.apply(x)
                vh, vw = seen.shape[-2:]
                seen = pad_to_multiple(seen, descriptor.size_multiple)
                out = descriptor.run(self.model, seen.contiguous(memory_format=self.memory_format),
                                     self.fractions, record and k == 0)
                restored = view.undo(out.image[:, :, :vh, :vw])[0].float()
                total = restored if total is None else total + restored
                recorded = out if record and k == 0 else recorded
            image = total / len(self.views) if len(self.views) > 1 else total
            if not torch.isfinite(image).all():
                raise NumericalError(f"the network gave NaN or infinite values in tile {box} (damaged "
                                     f"weights, or {self.precision} overflowing on {self.device})")
            if gray:  # the mean of the three channels as an RGB result would show them
                image = image.clamp(0.0, 1.0).mean(dim=0, keepdim=True)
            layers = {"image": (1, image.cpu().numpy())}
            if record:
                layers.update(map_layers(recorded, h, w, descriptor.cell, map_names))
            return layers

        return run

    def _tile_size(self, result_bytes: int) -> int:
        """The tile side to start with: as set; the whole image (0) for a network that is not tiling-safe;
        else from the memory free where tiles run, or the device's cap when the network's need is unknown."""
        descriptor = self.descriptor
        if self.tile != "auto":
            return self.tile
        if not descriptor.tiling_safe:
            return 0
        if self.device.type == "cuda":
            free, cap = CUDA_FREE_SHARE * device_free_bytes(self.device), CUDA_TILE_CAP
        else:
            free = HOST_FREE_SHARE * (device_free_bytes(self.device) - result_bytes)
            cap = CPU_TILE_CAP if self.device.type == "cpu" else MPS_TILE_CAP
        per_pixel = descriptor.bytes_per_pixel(self.dtype) if descriptor.bytes_per_pixel else 0
        return auto_tile(free, per_pixel, multiple=descriptor.size_multiple, cap=cap)

    @staticmethod
    def _reserve_host(need: int, width: int, height: int) -> None:
        """ImageSizeError when the image's host-side arrays would not fit in available RAM."""
        available = host_available_bytes()
        if need > available:
            raise ImageSizeError(f"image of {width}x{height} pixels is too large: its result needs about "
                                 f"{need / 2**30:.1f} GiB of memory, {available / 2**30:.1f} GiB available")

    def _probe(self) -> None:
        """Run a tiny input once, so a precision this device or torch build cannot run fails here, clearly."""
        m = self.descriptor.size_multiple
        try:
            with torch.inference_mode():
                x = torch.zeros(1, 3, m, m, device=self.device, dtype=self.dtype)
                self.descriptor.run(self.model, x, self.fractions, False)
        except (RuntimeError, NotImplementedError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise DeviceError(f"{self.precision} does not run on {self.device} with this torch build "
                              f"({reason})") from err

