"""Make the project's example photos: a procedurally drawn street scene (the project's own picture, no
third-party photo involved), blurred by the project's own synthesiser.

    python examples/make_examples.py

Writes examples/scene_sharp.png, examples/scene_blurred.png (camera shake with rotation: the blur varies
across the frame) and examples/half_blurred.png (left half sharp, right half blurred: the heatmap demo).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from deblur_cli.io import write_image
from deblur_cli.train.synthesis import SynthesisConfig, synthesize

HERE = Path(__file__).resolve().parent


def draw_scene(height: int = 512, width: int = 768, seed: int = 7) -> np.ndarray:
    """A street scene with the things blur ruins: text, thin lines, window grids, round shapes, texture."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.float32)
    sky = np.linspace(0, 1, height // 2, dtype=np.float32)[:, None, None]
    img[: height // 2] = (1 - sky) * np.array([0.55, 0.75, 0.95]) + sky * np.array([0.85, 0.9, 0.95])
    ground = (rng.random((height // 8, width // 8)) * 0.15).astype(np.float32)
    ground = cv2.resize(ground, (width, height - height // 2), interpolation=cv2.INTER_CUBIC)
    img[height // 2 :] = np.array([0.35, 0.33, 0.3]) + ground[..., None]
    img = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)  # text drawing needs 8-bit
    x = 10
    while x < width - 60:  # buildings with window grids
        w, h = int(rng.integers(90, 150)), int(rng.integers(170, 330))
        top = height // 2 + 60 - h
        colour = rng.uniform(0.25, 0.75, 3)
        cv2.rectangle(img, (x, top), (x + w, height // 2 + 60), (colour * 255).astype(int).tolist(), -1)
        for wy in range(top + 12, height // 2 + 40, 24):
            for wx in range(x + 10, x + w - 14, 20):
                lit = rng.random() < 0.35
                cv2.rectangle(img, (wx, wy), (wx + 10, wy + 14), (242, 230, 153) if lit else (38, 51, 64), -1)
        x += w + int(rng.integers(4, 20))
    for i in range(0, width, 48):  # road markings
        cv2.rectangle(img, (i, height - 90), (i + 26, height - 82), (242, 242, 230), -1)
    cv2.rectangle(img, (60, 300), (330, 372), (26, 89, 38), -1)  # street sign with text
    cv2.rectangle(img, (60, 300), (330, 372), (242, 242, 242), 3)
    cv2.putText(img, "MAIN ST 42", (78, 350), cv2.FONT_HERSHEY_DUPLEX, 1.25, (247, 247, 247), 2, cv2.LINE_AA)
    cv2.putText(img, "deblur", (520, 470), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (250, 217, 51), 3, cv2.LINE_AA)
    for cx in (440, 520):  # a bicycle: wheels with spokes
        cv2.circle(img, (cx, 420), 34, (13, 13, 13), 3, cv2.LINE_AA)
        for a in np.linspace(0, np.pi, 6, endpoint=False):
            dx, dy = int(34 * np.cos(a)), int(34 * np.sin(a))
            cv2.line(img, (cx - dx, 420 - dy), (cx + dx, 420 + dy), (76, 76, 76), 1, cv2.LINE_AA)
    cv2.line(img, (440, 420), (480, 380), (178, 26, 26), 4, cv2.LINE_AA)
    cv2.line(img, (480, 380), (520, 420), (178, 26, 26), 4, cv2.LINE_AA)
    for k in range(3):  # power lines
        cv2.line(img, (0, 40 + 12 * k), (width, 90 + 8 * k), (26, 26, 26), 1, cv2.LINE_AA)
    return img


def main() -> None:
    sharp = draw_scene()
    config = SynthesisConfig(
        blur_length=(0.03, 0.045),
        rotation_deg=2.0,
        object_probability=0.0,
        highlight_probability=0.0,
        jpeg_probability=0.0,
    )
    blurred, target = synthesize(sharp, 2024, config)
    to8 = lambda a: (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)  # noqa: E731
    write_image(HERE / "scene_sharp.png", to8(target), overwrite=True)
    write_image(HERE / "scene_blurred.png", to8(blurred), overwrite=True)
    half = to8(target).copy()
    half[:, half.shape[1] // 2 :] = to8(blurred)[:, half.shape[1] // 2 :]
    write_image(HERE / "half_blurred.png", half, overwrite=True)


if __name__ == "__main__":
    main()
