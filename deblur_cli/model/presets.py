"""Named SAPHNet presets (a registry of frozen configs, after timm) and `create_model`."""

from __future__ import annotations

import dataclasses
from typing import Any

from .config import SAPHNetConfig
from .saphnet import SAPHNet

DEFAULT_PRESET = "saphnet-b"
"""What `deblur` runs when no preset is named: the preset that deblurs best. saphnet-s becomes the default
once it meets its targets (DMPHN 1-2-4's quality at half its CPU time); until then it is only faster."""

PRESETS: dict[str, SAPHNetConfig] = {
    # The faster one: saphnet-b's stage 1 without its CAPMs and cross-attention (DMPHN 1-2-4's CPU time,
    # under half of saphnet-b's), one refinement stage on a small share of the cells. Narrower or
    # shallower cuts of saphnet-b's weights were tried and did not recover on a CPU (docs/training.md).
    # Both presets choose cells by how far the previous stage moved them (the change policy).
    "saphnet-s": SAPHNetConfig(
        backbone="dmphn", width=32, blocks=2, capm_scales=(), cross_attention=False, stages=2,
        budget=(0.15,), halo=4, policy_input="change",
    ),
    # DMPHN 1-2-4's exact stage 1 (its published weights start it), CAPMs at the bottleneck scale, two
    # refinement stages on a small share of the cells.
    "saphnet-b": SAPHNetConfig(
        backbone="dmphn", width=32, blocks=2, capm_scales=(2,), halo=4, budget=(0.3, 0.15),
        policy_input="change",
    ),
    # For tests only: tiny and fast, every idea present.
    "saphnet-test": SAPHNetConfig(
        width=8,
        blocks=1,
        capm_scales=(0, 1, 2),
        attention_maps=4,
        filter_groups=2,
        halo=4,
        cell=8,
        policy_width=8,
        policy_input="change",
    ),
}


def list_presets(include_test: bool = False) -> list[str]:
    """Preset names (the test preset only when asked)."""
    return [name for name in PRESETS if include_test or not name.endswith("-test")]


def get_config(name: str, **overrides: Any) -> SAPHNetConfig:
    """A preset's config with keyword overrides applied."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    cfg = PRESETS[name]
    if overrides:
        overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
        cfg = dataclasses.replace(cfg, **overrides)
    return cfg


def create_model(name: str | SAPHNetConfig = DEFAULT_PRESET, **overrides: Any) -> SAPHNet:
    """Build an (untrained) SAPHNet from a preset name or a config; weights are loaded elsewhere."""
    cfg = name if isinstance(name, SAPHNetConfig) else get_config(name, **overrides)
    if isinstance(name, SAPHNetConfig) and overrides:
        cfg = dataclasses.replace(cfg, **overrides)
    return SAPHNet(cfg)
