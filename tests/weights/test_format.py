"""The weights format: save_pretrained/load_model round trips, strict loading, config validation, bundled
weights and the untrained fallback (no network involved)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from deblur_cli.errors import WeightsError
from deblur_cli.model import create_model, get_config
from deblur_cli.weights import (
    CARD_NAME,
    CONFIG_NAME,
    PRETRAINED,
    WEIGHTS_NAME,
    load_model,
    model_card,
    save_pretrained,
    sha256_file,
)

from .conftest import PRESET, Export


def _restore(model: torch.nn.Module) -> torch.Tensor:
    torch.manual_seed(1)
    x = torch.rand(1, 3, 24, 32)
    with torch.no_grad():
        return model(x).image


def test_round_trip_float32_gives_identical_outputs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model(PRESET).eval()
    card = model_card(PRESET, model.config, summary="Tiny test weights.")
    digest = save_pretrained(model, tmp_path / "w", card=card, dtype=torch.float32)

    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == [CARD_NAME, CONFIG_NAME, WEIGHTS_NAME]
    assert digest == sha256_file(tmp_path / "w" / WEIGHTS_NAME)
    document = json.loads((tmp_path / "w" / CONFIG_NAME).read_text())
    assert document == {"format_version": 1, "architecture": "saphnet", "preset": PRESET,
                        "config": model.config.to_dict()}
    with safe_open(str(tmp_path / "w" / WEIGHTS_NAME), "pt") as f:
        assert f.metadata() == {"format": "pt"}
    assert (tmp_path / "w" / CARD_NAME).read_text().startswith("---\nlibrary_name: deblur\nlicense: mit\n")

    loaded, source = load_model(tmp_path / "w", preset="saphnet-s")  # config.json wins over the preset
    assert loaded.config == model.config
    assert (source.kind, source.preset, source.sha256, source.verified) == ("path", PRESET, digest, False)
    assert "unverified" in source.describe()
    assert torch.equal(_restore(loaded), _restore(model))


def test_float16_storage_loads_as_float32(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model(PRESET).eval()
    save_pretrained(model, tmp_path, dtype=torch.float16)
    stored = load_file(str(tmp_path / WEIGHTS_NAME))
    assert {t.dtype for t in stored.values()} == {torch.float16}
    loaded, _ = load_model(str(tmp_path / WEIGHTS_NAME))
    for name, tensor in loaded.state_dict().items():
        assert tensor.dtype == torch.float32
        assert torch.equal(tensor, model.state_dict()[name].half().float())
    assert (_restore(loaded) - _restore(model)).abs().max() < 2e-2


def test_safetensors_file_without_config_uses_the_preset(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model(PRESET).eval()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "bare.safetensors"))
    loaded, source = load_model(tmp_path / "bare.safetensors", preset=PRESET)
    assert loaded.config == get_config(PRESET)
    assert source.kind == "path" and source.path == tmp_path / "bare.safetensors"
    assert torch.equal(_restore(loaded), _restore(model))
    with pytest.raises(WeightsError, match="does not match the config"):
        load_model(tmp_path / "bare.safetensors", preset="saphnet-s")


def _state(export: Export) -> dict[str, torch.Tensor]:
    return load_file(str(export.folder / WEIGHTS_NAME))


def test_missing_keys_are_named(export: Export) -> None:
    state = _state(export)
    dropped = sorted(state)[:2]
    for name in dropped:
        del state[name]
    save_file(state, str(export.folder / WEIGHTS_NAME))
    with pytest.raises(WeightsError, match="2 missing keys") as info:
        load_model(export.folder)
    assert all(name in str(info.value) for name in dropped)
    assert "\n" not in str(info.value)


def test_unexpected_keys_are_named(export: Export) -> None:
    state = _state(export)
    state["head.extra.weight"] = torch.zeros(3)
    save_file(state, str(export.folder / WEIGHTS_NAME))
    with pytest.raises(WeightsError, match=r"1 unexpected keys \(head\.extra\.weight\)"):
        load_model(export.folder)


def test_wrong_shapes_are_named(export: Export) -> None:
    state = _state(export)
    name = sorted(k for k, v in state.items() if v.ndim == 4)[0]
    state[name] = torch.zeros(*state[name].shape[:-1], state[name].shape[-1] + 1, dtype=state[name].dtype)
    save_file(state, str(export.folder / WEIGHTS_NAME))
    with pytest.raises(WeightsError, match=f"1 shape mismatches \\({name} "):
        load_model(export.folder)


def test_config_describing_other_tensors_is_refused(export: Export) -> None:
    document = json.loads((export.folder / CONFIG_NAME).read_text())
    document["config"]["width"] = 16
    (export.folder / CONFIG_NAME).write_text(json.dumps(document))
    with pytest.raises(WeightsError, match="shape mismatches"):
        load_model(export.folder)


@pytest.mark.parametrize(("change", "message"), [
    ({"format_version": 2}, "format_version 2 is not supported"),
    ({"architecture": "nafnet"}, "architecture 'nafnet'"),
    ({"config": {"width": 8, "depth": 3}}, "unknown SAPHNet config keys: depth"),
    ({"config": {"width": 16.0}}, "invalid config: width must be a whole number, got 16.0"),
    ({"config": {"capm_scales": [0, "1"]}}, "capm_scales must be a list of whole numbers"),
    ({"config": {"use_global": 1}}, "use_global must be true or false, got 1"),
    ({"config": {"backbone": None}}, "backbone must be a string, got null"),
])
def test_invalid_config_json_is_refused(export: Export, change: dict, message: str) -> None:
    document = json.loads((export.folder / CONFIG_NAME).read_text())
    document.update(change)
    (export.folder / CONFIG_NAME).write_text(json.dumps(document))
    with pytest.raises(WeightsError, match=message):
        load_model(export.folder)


def test_only_safetensors_are_loaded(export: Export, tmp_path: Path) -> None:
    pickle_file = tmp_path / "model.pt"
    torch.save(create_model(PRESET).state_dict(), pickle_file)
    with pytest.raises(WeightsError, match="only .safetensors"):
        load_model(pickle_file, preset=PRESET)
    (tmp_path / "junk.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00not json")
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        load_model(tmp_path / "junk.safetensors", preset=PRESET)


def test_missing_paths_and_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="no such weights file"):
        load_model(str(tmp_path / "absent.safetensors"))
    with pytest.raises(WeightsError, match="has no model.safetensors"):
        load_model(tmp_path)
    with pytest.raises(WeightsError, match="neither an existing path nor a Hub repo id"):
        load_model("not a repo")
    with pytest.raises(ValueError, match="unknown preset"):
        load_model(preset="saphnet-xl")
    with pytest.raises(ValueError, match="two revisions"):
        load_model("org/name@v1", revision="v2")


def test_unpublished_preset_without_files_is_untrained(hf_env) -> None:
    model, source = load_model(preset=PRESET, offline=True)
    assert source.kind == "untrained" and source.path is None
    assert model.config == get_config(PRESET) and not model.training


def test_bundled_weights_are_verified(
    monkeypatch: pytest.MonkeyPatch, no_bundled: Path, export: Export
) -> None:
    bundled = no_bundled / PRESET
    bundled.mkdir(parents=True)
    for name, data in export.files.items():
        (bundled / name).write_bytes(data)
    record = dataclasses.replace(PRETRAINED[PRESET], sha256=export.sha256)
    monkeypatch.setitem(PRETRAINED, PRESET, record)
    _, source = load_model(preset=PRESET)
    assert (source.kind, source.verified, source.path) == ("bundled", True, bundled / WEIGHTS_NAME)

    monkeypatch.setitem(PRETRAINED, PRESET, dataclasses.replace(record, sha256="0" * 64))
    with pytest.raises(WeightsError, match="bundled file .* sha256 .* not the saphnet-test record's 0000"):
        load_model(preset=PRESET)
    assert (bundled / WEIGHTS_NAME).read_bytes() == export.files[WEIGHTS_NAME]


def test_save_is_atomic_per_file_and_leaves_no_temp_files(tmp_path: Path) -> None:
    torch.manual_seed(0)
    first = save_pretrained(create_model(PRESET), tmp_path)
    torch.manual_seed(1)
    second = save_pretrained(create_model(PRESET), tmp_path)
    assert first != second == sha256_file(tmp_path / WEIGHTS_NAME)
    assert sorted(p.name for p in tmp_path.iterdir()) == [CONFIG_NAME, WEIGHTS_NAME]
    with pytest.raises(ValueError, match="dtype"):
        save_pretrained(create_model(PRESET), tmp_path, dtype=torch.int8)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_weights_with_nan_or_inf_are_refused(export: Export, bad: float) -> None:
    state = _state(export)
    name = sorted(k for k, v in state.items() if v.is_floating_point())[3]
    state[name] = state[name].clone().fill_(bad)
    save_file(state, str(export.folder / WEIGHTS_NAME))
    with pytest.raises(WeightsError, match=f"1 tensors hold NaN or infinite values \\({name}\\)"):
        load_model(export.folder)
