"""Training and validation datasets: photos blurred on the fly, GoPro-layout pairs, raw frame bursts.

Every item is ``{"blurred": 3 x H x W float32, "sharp": 3 x H x W float32}`` in [0, 1]. Randomness (crop,
flips, rotations, synthesis) comes from a generator seeded by ``(seed, epoch, index)``, so an item is the
same whichever DataLoader worker builds it and in whatever order: no worker seeding is needed, and the
datasets pickle (they hold only paths and settings). Call ``set_epoch`` to draw new crops each epoch.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from ..errors import DatasetError, ImageReadError
from .synthesis import SynthesisConfig, synthesize, to_gamma, to_linear

__all__ = [
    "IMAGE_SUFFIXES",
    "FrameSequenceDataset",
    "PairedFolderDataset",
    "SharpFolderDataset",
    "augment_pair",
    "find_gopro_pairs",
    "find_pairs",
    "list_images",
    "make_validation_set",
    "read_rgb",
]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
_LISTED = 5  # how many offending files an error message names


def read_rgb(path: str | Path) -> np.ndarray:
    """Decode an image file to H x W x 3 uint8 RGB with OpenCV (fast; 16-bit files are reduced to 8)."""
    pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ImageReadError(f"cannot read {path} as an image")
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


def _as_paths(roots: str | Path | Iterable[str | Path]) -> list[Path]:
    return [Path(roots)] if isinstance(roots, str | Path) else [Path(r) for r in roots]


def _matches(rel: str, patterns: Iterable[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def list_images(
    roots: str | Path | Iterable[str | Path],
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
) -> list[Path]:
    """Image files under the roots (recursive, sorted), filtered by glob patterns.

    A pattern matches a file's path relative to its root (``bsds500/val_*``) or its bare name (``val_*``);
    ``include`` keeps only matching files, ``exclude`` then drops matching ones (e.g. photos held out for
    validation).
    """
    files: list[Path] = []
    for root in _as_paths(roots):
        if not root.is_dir():
            raise DatasetError(f"not a folder: {root}")
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            if include is not None and not _matches(rel, include):
                continue
            if _matches(rel, exclude):
                continue
            files.append(path)
    return files


def augment_pair(rng: np.random.Generator, *images: np.ndarray) -> tuple[np.ndarray, ...]:
    """Apply one random flip / 90-degree rotation (the square's 8 symmetries) to every H x W x C image."""
    k = int(rng.integers(4))
    flip = bool(rng.integers(2))
    out = []
    for image in images:
        image = np.rot90(image, k, axes=(0, 1))
        out.append(np.ascontiguousarray(image[:, ::-1] if flip else image))
    return tuple(out)


def _crop_box(rng: np.random.Generator, shape: tuple[int, ...], crop: int) -> tuple[int, int]:
    h, w = shape[:2]
    if h < crop or w < crop:
        raise DatasetError(f"crop {crop} is larger than an image of {w}x{h}")
    return int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / np.float32(255)
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))


class _SeededDataset(Dataset):
    """Shared seeding: item ``i`` of epoch ``e`` draws from ``default_rng([seed, e, i])``."""

    seed: int
    epoch: int = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw different crops and blurs from now on (call at the start of each epoch)."""
        self.epoch = int(epoch)

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, index])


class SharpFolderDataset(_SeededDataset):
    """Sharp photos (recursive), blurred on the fly by :func:`synthesize`.

    Each item: pick photo ``index % len(files)``, rescale it by a random factor in ``scale`` (never below the
    size a crop needs), take a random square of ``crop + 2 * margin``, synthesise, keep the centre ``crop``
    (so reflected borders never reach the pair), then a random flip / rotation if ``augment``.
    With ``crop=None`` the whole (rescaled) photo is synthesised and ``margin`` is trimmed from each side.
    """

    teachable = False
    """No GoPro-trained teacher's output as a target: on synthetic camera shake + noise they break."""

    def __init__(
        self,
        roots: str | Path | Iterable[str | Path],
        *,
        crop: int | None = 256,
        config: SynthesisConfig | None = None,
        length: int | None = None,
        seed: int = 0,
        margin: int = 40,
        scale: tuple[float, float] = (0.5, 1.0),
        augment: bool = True,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
    ) -> None:
        if crop is not None and crop < 1:
            raise ValueError(f"crop must be positive, got {crop}")
        if margin < 0 or not 0 < scale[0] <= scale[1]:
            raise ValueError(f"need margin >= 0 and 0 < scale[0] <= scale[1], got {margin}, {scale}")
        self.files = list_images(roots, include=include, exclude=exclude)
        if not self.files:
            raise DatasetError(f"no images found in {', '.join(str(r) for r in _as_paths(roots))}")
        self.crop = crop
        self.config = config or SynthesisConfig()
        self.length = len(self.files) if length is None else int(length)
        self.seed = seed
        self.margin = margin
        self.scale = scale
        self.augment = augment

    def __len__(self) -> int:
        return self.length

    def _region(self, rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        s = float(rng.uniform(*self.scale))
        if self.crop is None:
            s = max(s, (2 * self.margin + 1) / min(h, w))
            size = (max(1, round(w * s)), max(1, round(h * s)))
            return cv2.resize(image, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        region = self.crop + 2 * self.margin
        s = max(s, region / min(h, w))
        src = min(h, w, round(region / s))
        y, x = _crop_box(rng, image.shape, src)
        patch = image[y : y + src, x : x + src]
        if src == region:
            return np.ascontiguousarray(patch)
        return cv2.resize(
            patch, (region, region), interpolation=cv2.INTER_AREA if src > region else cv2.INTER_LINEAR
        )

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = self._rng(index)
        region = self._region(rng, read_rgb(self.files[index % len(self.files)]))
        blurred, sharp = synthesize(region, rng, self.config)
        m = self.margin
        if m:
            blurred, sharp = blurred[m:-m, m:-m], sharp[m:-m, m:-m]
        if self.augment:
            blurred, sharp = augment_pair(rng, blurred, sharp)
        return {"blurred": _to_tensor(blurred), "sharp": _to_tensor(sharp)}


def _stem_key(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def _image_size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as image:
            return image.size
    except OSError as exc:
        raise ImageReadError(f"cannot read {path} as an image: {exc}") from exc


def _listed(items: Sequence[str]) -> str:
    more = f", ... ({len(items) - _LISTED} more)" if len(items) > _LISTED else ""
    return ", ".join(items[:_LISTED]) + more


def find_pairs(
    blur_dir: str | Path, sharp_dir: str | Path, *, check_sizes: bool = True
) -> list[tuple[Path, Path]]:
    """Pair every image under ``blur_dir`` with the one at the same relative path under ``sharp_dir``.

    Paths are compared without their suffix (``a/1.png`` pairs with ``a/1.jpg``). Raises DatasetError naming
    the first few blurred images with no sharp one, sharp ones with no blurred one, and (with
    ``check_sizes``, read from the file headers) pairs whose sizes differ.
    """
    blur_root, sharp_root = Path(blur_dir), Path(sharp_dir)
    blurs = {_stem_key(p, blur_root): p for p in list_images(blur_root)}
    sharps = {_stem_key(p, sharp_root): p for p in list_images(sharp_root)}
    if not blurs and not sharps:
        raise DatasetError(f"no images found in {blur_root} or {sharp_root}")
    problems = []
    lonely_blur = sorted(set(blurs) - set(sharps))
    lonely_sharp = sorted(set(sharps) - set(blurs))
    if lonely_blur:
        problems.append(f"{len(lonely_blur)} blurred with no sharp image: {_listed(lonely_blur)}")
    if lonely_sharp:
        problems.append(f"{len(lonely_sharp)} sharp with no blurred image: {_listed(lonely_sharp)}")
    pairs = [(blurs[k], sharps[k]) for k in sorted(set(blurs) & set(sharps))]
    if check_sizes:
        mismatched = []
        for b, s in pairs:
            bs, ss = _image_size(b), _image_size(s)
            if bs != ss:
                mismatched.append(f"{b.relative_to(blur_root)} ({bs[0]}x{bs[1]} vs {ss[0]}x{ss[1]})")
        if mismatched:
            problems.append(f"{len(mismatched)} pairs differ in size: {_listed(mismatched)}")
    if problems:
        raise DatasetError(f"{blur_root} and {sharp_root} do not pair up: " + "; ".join(problems))
    return pairs


def find_gopro_pairs(root: str | Path, *, check_sizes: bool = True) -> list[tuple[Path, Path]]:
    """Pairs from every ``blur/`` folder under ``root`` (at any depth) and its sibling ``sharp/`` folder.

    Covers both ``root/blur`` + ``root/sharp`` and GoPro_Large's ``root/<sequence>/blur`` + ``.../sharp``.
    """
    root = Path(root)
    blur_dirs = sorted(p for p in [root, *root.rglob("*")] if p.is_dir() and p.name == "blur")
    if not blur_dirs:
        raise DatasetError(f"no blur/ folder under {root}")
    pairs: list[tuple[Path, Path]] = []
    for blur_dir in blur_dirs:
        sharp_dir = blur_dir.with_name("sharp")
        if not sharp_dir.is_dir():
            raise DatasetError(f"{blur_dir} has no sibling sharp/ folder")
        pairs.extend(find_pairs(blur_dir, sharp_dir, check_sizes=check_sizes))
    return pairs


class PairedFolderDataset(_SeededDataset):
    """Real blurred / sharp pairs matched by relative path (see :func:`find_pairs`).

    With ``crop`` each item is a random aligned square crop (plus a random flip / rotation if ``augment``);
    with ``crop=None`` the full images (batch size 1 unless they share a size).
    """

    teachable = True
    """A GoPro-trained teacher's output is a fair second target on real GoPro-like blur."""

    def __init__(
        self,
        blur_dir: str | Path,
        sharp_dir: str | Path,
        crop: int | None = None,
        *,
        augment: bool | None = None,
        seed: int = 0,
        check_sizes: bool = True,
    ) -> None:
        self.pairs = find_pairs(blur_dir, sharp_dir, check_sizes=check_sizes)
        self._init(crop, augment, seed)

    def _init(self, crop: int | None, augment: bool | None, seed: int) -> None:
        if crop is not None and crop < 1:
            raise ValueError(f"crop must be positive, got {crop}")
        self.crop = crop
        self.augment = crop is not None if augment is None else augment
        self.seed = seed

    @classmethod
    def from_root(
        cls, root: str | Path, crop: int | None = None, *, augment: bool | None = None, seed: int = 0
    ) -> PairedFolderDataset:
        """All ``blur/`` + ``sharp/`` sibling folders under ``root`` (see :func:`find_gopro_pairs`)."""
        dataset = cls.__new__(cls)
        dataset.pairs = find_gopro_pairs(root)
        dataset._init(crop, augment, seed)
        return dataset

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = self._rng(index)
        blur_path, sharp_path = self.pairs[index]
        blurred, sharp = read_rgb(blur_path), read_rgb(sharp_path)
        if blurred.shape != sharp.shape:
            raise DatasetError(
                f"{blur_path} and {sharp_path} differ in size: {blurred.shape} vs {sharp.shape}"
            )
        if self.crop is not None:
            y, x = _crop_box(rng, blurred.shape, self.crop)
            blurred = blurred[y : y + self.crop, x : x + self.crop]
            sharp = sharp[y : y + self.crop, x : x + self.crop]
        if self.augment:
            blurred, sharp = augment_pair(rng, blurred, sharp)
        return {"blurred": _to_tensor(blurred), "sharp": _to_tensor(sharp)}


_TRAILING_NUMBER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class _Run:
    """Frames with consecutive numbers, in order."""

    frames: tuple[Path, ...]


def _frame_runs(folder: Path) -> list[_Run]:
    """Runs of consecutively numbered frames in ``folder`` and every folder below it (each folder apart)."""
    by_folder: dict[Path, list[tuple[int, Path]]] = {}
    for path in list_images(folder):
        match = _TRAILING_NUMBER.search(path.stem)
        if match is None:
            logger.debug("skipping %s: no frame number at the end of its name", path)
            continue
        by_folder.setdefault(path.parent, []).append((int(match.group(1)), path))
    runs: list[list[Path]] = []
    for numbered in by_folder.values():
        numbered.sort()
        previous = None
        for number, path in numbered:
            if previous is None or number != previous + 1:
                runs.append([])
            runs[-1].append(path)
            previous = number
    return [_Run(tuple(r)) for r in runs]


class FrameSequenceDataset(_SeededDataset):
    """Raw high-frame-rate bursts turned into pairs by the GoPro recipe.

    An item averages N consecutive frames (N drawn from ``n_frames``, inclusive) in linear light (gamma
    undone, averaged, redone) for the blurred image; the sharp image is frame N // 2 of the window. Windows
    never span a gap in the frame numbering. Item ``i`` starts at window start ``i % windows``, where the
    windows are every start that leaves room for the smallest N. ``stride`` (inclusive range) averages every
    k-th frame instead: k times the motion of a slow sequence, at the price of gaps between copies once an
    object moves more than its own in-frame blur per frame. ``folders`` may also be a parent of several
    sequence folders (each is numbered on its own). Only the crop of each frame is kept after
    decoding; ``cache_frames`` > 0 keeps that many decoded frames (about 2.8 MB each at 1280x720) per
    process, useful when items are read in order.
    """

    teachable = True
    """A GoPro-trained teacher's output is a fair second target on the GoPro recipe's blur."""

    def __init__(
        self,
        folders: str | Path | Iterable[str | Path],
        *,
        crop: int | None = 256,
        n_frames: tuple[int, int] = (7, 13),
        stride: tuple[int, int] = (1, 1),
        length: int | None = None,
        seed: int = 0,
        gamma: float = 2.2,
        augment: bool = True,
        quantize: bool = True,
        cache_frames: int = 0,
    ) -> None:
        if not 1 <= n_frames[0] <= n_frames[1]:
            raise ValueError(f"n_frames must be a (lo, hi) pair with 1 <= lo <= hi, got {n_frames}")
        if not 1 <= stride[0] <= stride[1]:
            raise ValueError(f"stride must be a (lo, hi) pair with 1 <= lo <= hi, got {stride}")
        if crop is not None and crop < 1:
            raise ValueError(f"crop must be positive, got {crop}")
        runs = [run for folder in _as_paths(folders) for run in _frame_runs(folder)]
        self.windows = [(run, start) for run in runs for start in range(len(run.frames) - n_frames[0] + 1)]
        if not self.windows:
            raise DatasetError(
                f"no {n_frames[0]} consecutively numbered frames in "
                + ", ".join(str(f) for f in _as_paths(folders))
            )
        self.crop = crop
        self.n_frames = n_frames
        self.stride = stride
        self.length = len(self.windows) if length is None else int(length)
        self.seed = seed
        self.gamma = gamma
        self.augment = augment
        self.quantize = quantize
        self.cache_frames = cache_frames
        self._cache: OrderedDict[Path, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return self.length

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()  # each worker starts with its own, empty cache
        return state

    def _frame(self, path: Path) -> np.ndarray:
        if self.cache_frames <= 0:
            return read_rgb(path)
        frame = self._cache.get(path)
        if frame is None:
            frame = read_rgb(path)
            self._cache[path] = frame
            if len(self._cache) > self.cache_frames:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(path)
        return frame

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = self._rng(index)
        run, start = self.windows[index % len(self.windows)]
        left = len(run.frames) - start
        k = 1
        if self.stride[1] > 1:  # drawn only then, so stride-1 items match those of earlier versions
            k = int(rng.integers(self.stride[0], self.stride[1] + 1))
            k = max(1, min(k, (left - 1) // max(1, self.n_frames[0] - 1)))
        n = int(rng.integers(self.n_frames[0], min(self.n_frames[1], (left - 1) // k + 1) + 1))
        window = run.frames[start : start + (n - 1) * k + 1 : k]
        first = self._frame(window[0])
        y, x = (0, 0) if self.crop is None else _crop_box(rng, first.shape, self.crop)
        h, w = first.shape[:2] if self.crop is None else (self.crop, self.crop)
        total = np.zeros((h, w, 3), dtype=np.float32)
        sharp = first
        for k, path in enumerate(window):
            frame = first if k == 0 else self._frame(path)
            if frame.shape != first.shape:
                raise DatasetError(f"{path} is {frame.shape[1]}x{frame.shape[0]}, unlike {window[0]}")
            frame = frame[y : y + h, x : x + w]
            if k == n // 2:
                sharp = frame
            total += to_linear(frame, self.gamma)
        blurred = to_gamma(total / np.float32(n), self.gamma)
        if self.quantize:
            blurred = np.round(blurred * 255.0) / np.float32(255)
        if self.augment:
            blurred, sharp = augment_pair(rng, blurred, sharp)
        return {"blurred": _to_tensor(blurred), "sharp": _to_tensor(sharp)}


def make_validation_set(
    roots: str | Path | Iterable[str | Path],
    *,
    count: int = 32,
    crop: int | None = 256,
    seed: int = 20240207,
    config: SynthesisConfig | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
) -> list[tuple[np.ndarray, np.ndarray]]:
    """A fixed held-out synthetic set: ``count`` (blurred, sharp) H x W x 3 float32 pairs, same every call.

    Draw it from photos kept out of training (e.g. ``include=["val_*"]`` here and ``exclude=["val_*"]`` for
    the training :class:`SharpFolderDataset`). No flips or rescaling; photo ``i % len(files)`` for pair ``i``.
    """
    dataset = SharpFolderDataset(
        roots,
        crop=crop,
        config=config,
        length=count,
        seed=seed,
        scale=(1.0, 1.0),
        augment=False,
        include=include,
        exclude=exclude,
    )
    pairs = []
    for i in range(count):
        item = dataset[i]
        pairs.append((item["blurred"].permute(1, 2, 0).numpy(), item["sharp"].permute(1, 2, 0).numpy()))
    return pairs
