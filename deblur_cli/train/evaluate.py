"""`deblur eval`: PSNR/SSIM of restored images against sharp references, through the same engine as `run`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..engine import Deblurrer
from ..io import read_image
from .datasets import find_pairs
from .metrics import psnr, ssim


@dataclass(frozen=True)
class PairScore:
    """Scores of one pair: the restored image and, for reference, the blurred input."""

    name: str
    psnr: float
    ssim: float
    input_psnr: float
    input_ssim: float
    seconds: float


@dataclass(frozen=True)
class EvalReport:
    """Per-pair scores and their means."""

    pairs: list[PairScore]

    def mean(self, field: str) -> float:
        return float(np.mean([getattr(p, field) for p in self.pairs])) if self.pairs else float("nan")

    def to_dict(self) -> dict[str, object]:
        keys = ("psnr", "ssim", "input_psnr", "input_ssim", "seconds")
        return {"pairs": [asdict(p) for p in self.pairs], "mean": {k: self.mean(k) for k in keys}}


def unit_rgb(pixels: np.ndarray) -> np.ndarray:
    """An image as float32 RGB in [0, 1], the form every score here is computed on."""
    scale = 65535.0 if pixels.dtype == np.uint16 else 255.0
    rgb = pixels[..., :3] if pixels.shape[-1] >= 3 else np.repeat(pixels, 3, axis=-1)
    return rgb.astype(np.float32) / scale


def evaluate(
    deblurrer: Deblurrer,
    blur_dir: str | Path,
    sharp_dir: str | Path,
    *,
    on_pair: Callable[[PairScore, int, int], None] | None = None,
) -> EvalReport:
    """Restore every blurred image under `blur_dir` and score it against its sharp twin (same relative path).

    Scores are computed on RGB in [0, 1] (SSIM averaged over channels), full frames, no border crop.
    Raises DatasetError when the folders do not pair up.
    """
    pairs = find_pairs(blur_dir, sharp_dir)
    scores = []
    for i, (blur_path, sharp_path) in enumerate(pairs):
        blurred = read_image(blur_path).pixels
        sharp = unit_rgb(read_image(sharp_path).pixels)
        start = time.perf_counter()
        restored = deblurrer.restore(blurred)
        seconds = time.perf_counter() - start
        restored, blurred_f = unit_rgb(restored), unit_rgb(blurred)
        score = PairScore(
            name=str(Path(blur_path).relative_to(blur_dir)),
            psnr=float(psnr(restored, sharp)),
            ssim=float(ssim(restored, sharp)),
            input_psnr=float(psnr(blurred_f, sharp)),
            input_ssim=float(ssim(blurred_f, sharp)),
            seconds=seconds,
        )
        scores.append(score)
        if on_pair is not None:
            on_pair(score, i + 1, len(pairs))
    return EvalReport(scores)
