"""The on-disk format of a preset's weights: a folder (and Hub repository) holding `config.json`,
`model.safetensors` and a `README.md` model card. Saving is atomic per file; loading is strict."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import typing
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import WeightsError
from ..model import PRESETS, SAPHNet, SAPHNetConfig, create_model
from .registry import sha256_file

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"
FORMAT_VERSION = 1
ARCHITECTURE = "saphnet"
_SHOWN = 5  # names listed in a strict-loading error before "... and N more"


def config_document(config: SAPHNetConfig, preset: str | None) -> dict[str, Any]:
    """The JSON document stored as `config.json`: enough to rebuild the network exactly."""
    return {"format_version": FORMAT_VERSION, "architecture": ARCHITECTURE, "preset": preset,
            "config": config.to_dict()}


def parse_config(document: Any, *, origin: str) -> tuple[SAPHNetConfig, str | None]:
    """Validate a `config.json` document and return (config, preset name it declares).

    Raises:
        WeightsError: not our format, a newer format version, or settings SAPHNetConfig rejects.
    """
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise WeightsError(f"{origin}: not a deblur config.json (no 'config' object)")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise WeightsError(f"{origin}: format_version {version!r} is not supported (this deblur reads "
                           f"{FORMAT_VERSION}); upgrade deblur or re-export the weights")
    if document.get("architecture") != ARCHITECTURE:
        raise WeightsError(f"{origin}: architecture {document.get('architecture')!r} is not {ARCHITECTURE!r}")
    try:
        _check_types(document["config"])
        config = SAPHNetConfig.from_dict(document["config"])
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"{origin}: invalid config: {exc}") from None
    preset = document.get("preset")
    return config, preset if isinstance(preset, str) else None


def _check_types(settings: dict[str, Any]) -> None:
    """TypeError naming the first setting whose JSON value is not of its field's type ("width": 16.0 is
    not an int), so a wrong value fails here in one line rather than deep inside the network."""
    hints = typing.get_type_hints(SAPHNetConfig)
    for name, value in settings.items():
        hint = hints.get(name)
        if hint is not None and not _fits(value, hint):
            raise TypeError(f"{name} must be {_type_name(hint)}, got {json.dumps(value)}")


def _fits(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is tuple:
        return "a list of " + {int: "whole numbers", float: "numbers"}.get(typing.get_args(hint)[0], "values")
    if typing.get_origin(hint) is dict:
        return "an object"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}.get(
        hint, str(hint))


def read_config(path: str | Path) -> tuple[SAPHNetConfig, str | None]:
    """Read and validate a `config.json` file.

    Raises:
        WeightsError: unreadable, not JSON, or not a valid deblur config.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"cannot read {path}: {exc}") from None
    return parse_config(document, origin=str(path))


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" ... and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def check_state_dict(model: torch.nn.Module, state: dict[str, torch.Tensor], *, origin: str) -> None:
    """Refuse a state dict that does not match the model exactly (timm's strict `load_pretrained`).

    Raises:
        WeightsError: missing or unexpected keys, or shape mismatches, naming the first few.
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys ({_names(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys ({_names(unexpected)})")
    if wrong:
        detail = [f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}" for k in wrong]
        problems.append(f"{len(wrong)} shape mismatches ({_names(detail)})")
    if problems:
        raise WeightsError(f"{origin} does not match the config: " + "; ".join(problems))


def check_finite(state: dict[str, torch.Tensor], *, origin: str) -> None:
    """Refuse weights holding NaN or infinite values: the network would run and write garbage.

    Raises:
        WeightsError: naming the first few tensors that are not finite.
    """
    broken = sorted(k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all())
    if broken:
        raise WeightsError(f"{origin}: {len(broken)} tensors hold NaN or infinite values ({_names(broken)}); "
                           "the weights are damaged")


def load_weights(config: SAPHNetConfig, weights_path: str | Path) -> SAPHNet:
    """Build a SAPHNet from `config` and load a safetensors file into it strictly, in float32, eval mode.

    Raises:
        WeightsError: not a readable safetensors file, tensors that do not match the config, or NaN or
            infinite values.
    """
    weights_path = Path(weights_path)
    if weights_path.suffix != ".safetensors":
        raise WeightsError(f"{weights_path}: only .safetensors weights are loaded (no pickle files)")
    try:
        state = load_file(str(weights_path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{weights_path} is not a readable safetensors file: {exc}") from None
    model = create_model(config)
    check_state_dict(model, state, origin=str(weights_path))
    check_finite(state, origin=str(weights_path))
    reference = model.state_dict()
    state = {k: v.to(reference[k].dtype) if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    return model.eval()


def _atomic_write(path: Path, write: Any) -> None:
    """Write through `write(tmp_path)` into a temp file beside `path`, then rename it over `path`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _preset_of(config: SAPHNetConfig) -> str | None:
    return next((name for name, cfg in PRESETS.items() if cfg == config), None)


def save_pretrained(model: SAPHNet, folder: str | Path, *, preset: str | None = None, card: str | None = None,
                    dtype: torch.dtype = torch.float16) -> str:
    """Write `config.json`, `model.safetensors` (floating tensors stored as `dtype`) and, if given, the model
    card `README.md` into `folder`, each file atomically; returns the sha256 of `model.safetensors`.

    `preset` defaults to the preset whose config equals the model's, if any. The weights are written before
    `config.json`, so an interrupted save never leaves a config describing tensors that are not there yet.

    Raises:
        ValueError: `dtype` is not float16, bfloat16 or float32.
        WeightsError: the folder cannot be written.
    """
    if dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"dtype must be float16, bfloat16 or float32, got {dtype}")
    folder = Path(folder)
    config = model.config
    preset = preset if preset is not None else _preset_of(config)
    # Own copies: safetensors refuses tensors sharing storage, and the caller's model must stay untouched.
    state = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().to("cpu", dtype) if tensor.is_floating_point() else tensor.detach().cpu()
        state[name] = tensor.contiguous().clone()
    document = json.dumps(config_document(config, preset), indent=2, sort_keys=False) + "\n"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / WEIGHTS_NAME
        _atomic_write(weights, lambda tmp: save_file(state, str(tmp), metadata={"format": "pt"}))
        if card is not None:
            _atomic_write(folder / CARD_NAME, lambda tmp: tmp.write_text(card, encoding="utf-8"))
        _atomic_write(folder / CONFIG_NAME, lambda tmp: tmp.write_text(document, encoding="utf-8"))
    except OSError as exc:
        raise WeightsError(f"cannot write weights to {folder}: {exc}") from None
    digest = sha256_file(weights)
    logger.info("saved %s weights to %s (sha256 %s)", preset or "custom", folder, digest)
    return digest


def model_card(preset: str, config: SAPHNetConfig, *, license: str = "mit", summary: str = "",
               metrics: dict[str, float] | None = None) -> str:
    """A Hub model card (`README.md` with its YAML metadata header) for a preset's weights."""
    lines = ["---", "library_name: deblur", f"license: {license}", "pipeline_tag: image-to-image",
             "tags:", "- image-deblurring", "- motion-deblurring", "- saphnet", "---", "",
             f"# {preset}", "",
             summary or "SAPHNet weights for the `deblur` command-line tool (motion deblurring).", "",
             "```bash", f"deblur weights pull {preset}", "```", "",
             "## Architecture", "", "```json", json.dumps(config.to_dict(), indent=2), "```", ""]
    if metrics:
        lines += ["## Results", "", "| metric | value |", "|---|---|"]
        lines += [f"| {name} | {value:.4g} |" for name, value in metrics.items()]
        lines.append("")
    return "\n".join(lines)
