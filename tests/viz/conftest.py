"""Maps built by hand (the engine's `Maps` fields), so the figures can be checked pixel by pixel."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest


@dataclass
class HandMaps:
    """Same fields as `deblur_cli.engine.Maps`."""

    difficulty: np.ndarray
    chosen: np.ndarray
    attention: dict[str, np.ndarray] = field(default_factory=dict)
    offsets: dict[str, np.ndarray] = field(default_factory=dict)
    cell: int = 8
    scale: dict[str, int] = field(default_factory=dict)


def make_maps(height: int = 40, width: int = 56, *, cell: int = 8, stages: int = 3, maps_m: int = 4,
              taps: int = 9) -> HandMaps:
    """Maps for a height x width photo: zero difficulty, nothing chosen, uniform attention, zero offsets."""
    rows, cols = -(-height // cell), -(-width // cell)
    ph, pw = rows * cell, cols * cell
    attention = {
        "hierarchy.decoders.0.stacks.1.blocks.0.capm.global_branch":
            np.full((maps_m, ph // 2, pw // 2), 1.0 / (ph * pw / 4), np.float32),
        "hierarchy.decoders.0.stacks.0.blocks.0.capm.global_branch":
            np.full((maps_m, ph, pw), 1.0 / (ph * pw), np.float32),
        "hierarchy.decoders.0.skips.0.attention": np.full((maps_m, ph, pw), 1.0 / (ph * pw), np.float32),
    }
    offsets = {
        "hierarchy.decoders.0.stacks.1.blocks.0.capm.local_branch":
            np.zeros((2 * taps, ph // 2, pw // 2), np.float32),
        "hierarchy.decoders.0.stacks.0.blocks.0.capm.local_branch": np.zeros((2 * taps, ph, pw), np.float32),
    }
    return HandMaps(np.zeros((stages - 1, rows, cols), np.float32), np.zeros((stages - 1, rows, cols), bool),
                    attention, offsets, cell)


@pytest.fixture
def photo() -> np.ndarray:
    """A 40 x 56 RGB test photo with structure (a gradient and a bright square)."""
    rng = np.random.default_rng(0)
    img = np.zeros((40, 56, 3), np.uint8)
    img[:] = np.linspace(40, 200, 56, dtype=np.uint8)[None, :, None]
    img[10:20, 30:45] = 250
    return img + rng.integers(0, 5, img.shape, dtype=np.uint8)


@pytest.fixture
def maps_for():
    """The `make_maps` factory, as a fixture."""
    return make_maps
