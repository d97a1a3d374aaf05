"""Where each preset's trained weights live and what they must hash to (timm's `PretrainedCfg`, kept apart
from the architecture config in `deblur_cli.model.presets`).

How a shipped file gets recorded (the one place to edit by hand):

1. Export: ``sha = save_pretrained(model, "weights/saphnet-s", preset="saphnet-s", card=...)`` returns the
   sha256 of the written ``model.safetensors`` (or run ``sha256_file(path)`` / ``deblur weights verify``).
2. Paste that hex digest as ``sha256=`` of the preset's record in ``PRETRAINED`` below.
3. After ``deblur weights push saphnet-s --repo deblur-project/saphnet-s`` prints the commit sha it created,
   paste it as ``revision=`` so downloads are pinned to that exact commit (until then the honest value is
   ``"main"``, which follows the branch).

A record whose ``sha256`` is None means "no trained weights published": the preset then loads untrained
unless weights are bundled in ``weights/<preset>/`` or given explicitly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

HUB_ORG = "deblur-project"
"""Hugging Face organisation the project means to publish to (a placeholder: nothing is published yet)."""


@dataclass(frozen=True)
class PretrainedRecord:
    """Where one preset's weights are published and the checksum they must match."""

    preset: str
    """Architecture preset the weights belong to (a key of `deblur_cli.model.PRESETS`)."""
    repo_id: str
    """Hugging Face model repository, ``org/name``."""
    revision: str = "main"
    """Pinned revision: a 40-hex commit sha once published; ``"main"`` before that."""
    sha256: str | None = None
    """Hex sha256 of ``filename``; None while no trained weights are published."""
    license: str = "mit"
    """Licence of the weights (SPDX id, as in the model card's metadata header)."""
    filename: str = "model.safetensors"
    """Weights file inside the repository."""

    @property
    def published(self) -> bool:
        """True when trained weights with a known checksum exist for this preset."""
        return self.sha256 is not None

    @property
    def pinned(self) -> bool:
        """True when `revision` is an immutable commit sha rather than a branch or tag."""
        return len(self.revision) == 40 and all(c in "0123456789abcdef" for c in self.revision)


# ---- edit here when shipping weights (see the module docstring) ------------------------------------------
PRETRAINED: dict[str, PretrainedRecord] = {
    "saphnet-s": PretrainedRecord(
        preset="saphnet-s",
        repo_id=f"{HUB_ORG}/saphnet-s",
        revision="main",
        sha256="ced5e2ca68e5144e1d34e0dbe0e7eb7c068eea07fa2327372874a13254ba478b",
        license="mit",
    ),
    "saphnet-b": PretrainedRecord(
        preset="saphnet-b",
        repo_id=f"{HUB_ORG}/saphnet-b",
        revision="main",
        sha256="ae714168641d85d1799294c6bb4c8610b6d44bbfc8294476428b27486ca44ab7",
        license="other",  # stage 1 holds DMPHN's published weights, which carry no licence
    ),
    "saphnet-test": PretrainedRecord(
        preset="saphnet-test", repo_id=f"{HUB_ORG}/saphnet-test", revision="main", sha256=None, license="mit"
    ),
}
# -----------------------------------------------------------------------------------------------------------


def get_record(preset: str) -> PretrainedRecord:
    """The weights record of a preset; ValueError naming the known ones if there is none."""
    try:
        return PRETRAINED[preset]
    except KeyError:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRETRAINED)}") from None


def sha256_file(path: str | Path, *, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (the value to record as `PretrainedRecord.sha256`)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
