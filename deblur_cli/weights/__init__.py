"""SAPHNet weights: the on-disk/Hub format, the per-preset records, the bundle inside the package, and
resolution (path, bundled, cache, download) with checksum verification and strict loading."""

from .bundle import bundled_dir
from .format import (
    CARD_NAME,
    CONFIG_NAME,
    WEIGHTS_NAME,
    load_weights,
    model_card,
    read_config,
    save_pretrained,
)
from .registry import HUB_ORG, PRETRAINED, PretrainedRecord, get_record, sha256_file
from .resolve import LocalFile, PullResult, WeightsSource, load_model, local_files, pull, push

__all__ = [
    "CARD_NAME",
    "CONFIG_NAME",
    "HUB_ORG",
    "PRETRAINED",
    "WEIGHTS_NAME",
    "LocalFile",
    "PretrainedRecord",
    "PullResult",
    "WeightsSource",
    "bundled_dir",
    "get_record",
    "load_model",
    "load_weights",
    "local_files",
    "model_card",
    "pull",
    "push",
    "read_config",
    "save_pretrained",
    "sha256_file",
]
