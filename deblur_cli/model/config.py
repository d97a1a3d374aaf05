"""Architecture settings of SAPHNet: one frozen dataclass, saved as the `config.json` shipped with weights."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ..overrides import parse_field_override


@dataclass(frozen=True)
class SAPHNetConfig:
    """Everything needed to rebuild a SAPHNet exactly; every idea of the paper has a switch for ablations."""

    backbone: str = "residual"
    """Stage 1's layers: "dmphn" = DMPHN 1-2-4's exactly (ReLU blocks, transposed-conv upsampling, no
    encoder-decoder skips, the last decoder gives the image; its published weights load into it), or
    "residual" = ours (leaky ReLU, pixel-shuffle upsampling, added skips, zero-initialised residual head)."""
    width: int = 32
    """Channels at full resolution (C); the encoder uses C, 2C, 4C over its three scales."""
    blocks: int = 1
    """Residual blocks per scale, in encoder and decoder alike."""
    levels: int = 3
    """Patch hierarchy depth: 3 = levels 1-2-4 (whole, halves, quadrants), 1 = a single encoder-decoder."""
    capm_scales: tuple[int, ...] = (0, 1, 2)
    """Scales (0 = full resolution) whose residual blocks carry a content-aware processing module."""
    attention_maps: int = 8
    """M: number of softmax-over-pixels maps in each global attention."""
    filter_size: int = 3
    """k: size of the pixel-dependent filters."""
    filter_groups: int = 4
    """Channel groups sharing one per-pixel filter."""
    use_global: bool = True
    """CAPM global branch (linear self-attention)."""
    use_local: bool = True
    """CAPM local branch (pixel-dependent filtering)."""
    use_offsets: bool = True
    """Learned per-pixel offsets in the local branch (off = a plain dynamic filter)."""
    cross_attention: bool = True
    """Cross-attention where features cross (skips, level to level, stage to stage); off = plain addition."""
    stages: int = 3
    """S: stage 1 is dense, stages 2..S refine chosen cells."""
    budget: tuple[float, ...] = (0.5, 0.25)
    """rho_s: fraction of cells each refinement stage refines by default."""
    sampling: bool = True
    """Pixel-adaptive sampling; off = later stages refine every cell (dense)."""
    cell: int = 16
    """c: side of a sampling cell, in pixels."""
    halo: int = 8
    """Context pixels around each chosen cell, blended over when results are scattered back (ours)."""
    refiner_blocks: int = 1
    """Residual blocks per scale in each refinement stage."""
    policy_width: int = 16
    """Hidden channels of the sampling policy head."""
    policy_input: str = "features"
    """What the sampling policy reads (`SamplingPolicy`): "features" = the images and the previous stage's
    features, as in the paper (and in older weight files); "change" = how far the previous stage moved
    each cell's pixels."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Free-form notes carried into config.json (never read by the network)."""

    def __post_init__(self) -> None:
        if self.policy_input not in ("features", "change"):
            raise ValueError(f"policy_input must be 'features' or 'change', got {self.policy_input!r}")
        if self.backbone not in ("dmphn", "residual"):
            raise ValueError(f"backbone must be 'dmphn' or 'residual', got {self.backbone!r}")
        if self.width < 4 or self.width % self.filter_groups:
            raise ValueError(f"width must be >= 4 and divisible by filter_groups, got {self.width}")
        if self.levels not in (1, 2, 3):
            raise ValueError(f"levels must be 1, 2 or 3, got {self.levels}")
        if self.stages < 1:
            raise ValueError(f"stages must be >= 1, got {self.stages}")
        if len(self.budget) != self.stages - 1:
            raise ValueError(
                f"budget needs {self.stages - 1} fractions (one per refinement stage), got {self.budget}"
            )
        if any(not 0.0 <= b <= 1.0 for b in self.budget):
            raise ValueError(f"budget fractions must lie in [0, 1], got {self.budget}")
        if self.cell < 4 or self.cell % 4:
            raise ValueError(f"cell must be a multiple of 4, got {self.cell}")
        if self.halo < 0 or (self.cell + 2 * self.halo) % 2:
            raise ValueError(f"halo must be >= 0 with an even patch size, got {self.halo}")
        if self.filter_size % 2 == 0:
            raise ValueError(f"filter_size must be odd, got {self.filter_size}")
        if any(s not in (0, 1, 2) for s in self.capm_scales):
            raise ValueError(f"capm_scales must be drawn from 0, 1, 2, got {self.capm_scales}")

    @property
    def refinement_stages(self) -> int:
        """Number of adaptive-sampling stages (S - 1)."""
        return self.stages - 1

    @property
    def size_multiple(self) -> int:
        """Inputs are padded to this multiple: cells must tile the image, and every part of the
        hierarchy must halve twice."""
        parts = {1: 1, 2: 2, 3: 2}[self.levels]
        return math.lcm(4 * parts, self.cell)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def parse_override(cls, text: str) -> tuple[str, Any]:
        """``"blocks=1"`` as ``("blocks", 1)``, typed like the field's default (``capm_scales=`` is the empty
        tuple, ``budget=0.3,0.15`` a tuple), so a command line can change any setting; raises ValueError
        naming the fields on a bad name or value. The combined config checks the values themselves."""
        return parse_field_override(cls, text, skip=("extra",))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SAPHNetConfig:
        """Inverse of `to_dict`; unknown keys are an error so a config never half-applies."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(f"unknown SAPHNet config keys: {', '.join(unknown)}")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**kwargs)
