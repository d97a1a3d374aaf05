"""Where each preset's trained weights live and what they must hash to (timm's `PretrainedCfg`, kept apart
from the architecture config in `deblur_cli.model.presets`).

A preset's weights come from the bundle inside the installed package (`weights/<preset>/` of the repository,
see `bundle`) and, once published, from its Hugging Face repository at a pinned commit. How a shipped file
gets recorded (the one place to edit by hand):

1. Export: ``sha = save_pretrained(model, "weights/saphnet-s", preset="saphnet-s", card=...)`` returns the
   sha256 of the written ``model.safetensors`` (or run ``sha256_file(path)`` / ``deblur weights verify``).
2. Paste that hex digest as ``sha256=`` of the preset's record in ``PRETRAINED`` below.
3. To publish: ``deblur weights push saphnet-s --repo deblur-project/saphnet-s`` prints the commit sha it
   created; set ``repo_id=`` and paste the sha as ``revision=``, so downloads are pinned to that commit.

A record without ``repo_id`` is not published: its weights come only from the bundle, and the network is
never used for it. A record without ``sha256`` has no trained weights at all: the preset loads untrained.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

HUB_ORG = "deblur-project"
"""Hugging Face organisation the project means to publish to (nothing is published there yet)."""

_COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class PretrainedRecord:
    """Where one preset's weights are published (if they are) and the checksum they must match."""

    preset: str
    """Architecture preset the weights belong to (a key of `deblur_cli.model.PRESETS`)."""
    repo_id: str | None = None
    """Hugging Face model repository, ``org/name``; None while the weights are not published."""
    revision: str | None = None
    """The published commit (40 hex digits) downloads are pinned to; None while not published."""
    sha256: str | None = None
    """Hex sha256 of ``filename``; None while the preset has no trained weights."""
    license: str = "mit"
    """Licence of the weights (SPDX id, as in the model card's metadata header)."""
    filename: str = "model.safetensors"
    """Weights file inside the repository."""

    def __post_init__(self) -> None:
        if self.repo_id is None and self.revision is not None:
            raise ValueError(f"{self.preset}: a revision without a repo_id")
        if self.repo_id is not None and (self.sha256 is None or not _COMMIT.fullmatch(self.revision or "")):
            raise ValueError(f"{self.preset}: a published record needs its sha256 and the commit sha it was "
                             f"pushed as (revision), got revision {self.revision!r}")

    @property
    def published(self) -> bool:
        """True when the weights are in a Hugging Face repository (at a pinned commit)."""
        return self.repo_id is not None

    @property
    def trained(self) -> bool:
        """True when trained weights with a known checksum exist for this preset (bundled or published)."""
        return self.sha256 is not None

    def where(self) -> str:
        """Where the weights are published, for tables: ``org/name@commit``, or "not published"."""
        return f"{self.repo_id}@{self.revision}" if self.published else "not published"


# ---- edit here when shipping weights (see the module docstring) ------------------------------------------
PRETRAINED: dict[str, PretrainedRecord] = {
    "saphnet-s": PretrainedRecord(
        preset="saphnet-s",
        sha256="191dad426273500f6f6e4e9de2135bebd0f7706d1c40ca92ef102032f963ad47",
        license="other",  # cut from saphnet-b, whose stage 1 holds DMPHN's published weights
    ),
    "saphnet-b": PretrainedRecord(
        preset="saphnet-b",
        sha256="282cbaf1a7af08cbcf26dadaac03365991c1bc2942610e89adc87c0c98aea91c",
        license="other",  # stage 1 holds DMPHN's published weights, which carry no licence
    ),
    "saphnet-test": PretrainedRecord(preset="saphnet-test", license="mit"),
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
