from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner

from deblur_cli.cli import app
from deblur_cli.errors import WeightsError
from deblur_cli.model.dmphn import DMPHN124, StackDMPHN
from deblur_cli.weights import load_weights, read_config
from deblur_cli.weights.dmphn_import import PARTS, load_published, read_dmphn_state


def _fake_dmphn(tmp_path: Path) -> tuple[DMPHN124, Path]:
    """A random DMPHN saved as the authors' six .pkl state dicts."""
    torch.manual_seed(1)
    dmphn = DMPHN124().eval()
    folder = tmp_path / "DMPHN_1_2_4"
    folder.mkdir()
    for part in PARTS:
        torch.save(getattr(dmphn, part).state_dict(), folder / f"{part}.pkl")
    return dmphn, folder


def test_import_of_the_authors_files_gives_dmphns_output(tmp_path: Path) -> None:
    dmphn, folder = _fake_dmphn(tmp_path)
    out = tmp_path / "saphnet-b"
    result = CliRunner().invoke(app, ["weights", "import", "dmphn", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    config, preset = read_config(out / "config.json")
    assert preset == "saphnet-b" and config.backbone == "dmphn"
    assert "license: other" in (out / "README.md").read_text()
    model = load_weights(config, out / "model.safetensors").eval()
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        torch.testing.assert_close(model(x).image, dmphn(x), rtol=0, atol=2e-2)  # fp16 storage


def test_safetensors_copy_reads_the_same(tmp_path: Path) -> None:
    dmphn, folder = _fake_dmphn(tmp_path)
    save_file({k: v.contiguous() for k, v in dmphn.state_dict().items()}, tmp_path / "d.safetensors")
    a, b = read_dmphn_state(folder), read_dmphn_state(tmp_path / "d.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_wrong_shape_missing_file_and_pickled_code_are_one_line_errors(tmp_path: Path) -> None:
    dmphn, folder = _fake_dmphn(tmp_path)
    state = dmphn.encoder_lv1.state_dict()
    state["layer1.weight"] = torch.zeros(16, 3, 3, 3)
    torch.save(state, folder / "encoder_lv1.pkl")
    with pytest.raises(WeightsError, match="shape"):
        read_dmphn_state(folder)
    torch.save({"model": Path("x")}, folder / "encoder_lv1.pkl")  # not tensors only
    with pytest.raises(WeightsError, match="tensors-only"):
        read_dmphn_state(folder)
    torch.save(dmphn.encoder_lv1.state_dict(), folder / "encoder_lv1.pkl")
    (folder / "decoder_lv3.pkl").unlink()
    result = CliRunner().invoke(app, ["weights", "import", "dmphn", str(folder), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "no decoder_lv3.pkl" in result.output
    assert not (tmp_path / "o").exists()


def test_published_networks_load_by_their_keys_and_run_as_the_engine_expects(tmp_path: Path) -> None:
    dmphn, folder = _fake_dmphn(tmp_path)
    stack = StackDMPHN(stages=2).eval()
    authors = {}
    for key, value in stack.state_dict().items():  # stages.1.encoder_lv2.x -> encoder_s2_lv2.x
        _, stage, part, rest = key.split(".", 3)
        kind, level = part.split("_")
        authors[f"{kind}_s{int(stage) + 1}_{level}.{rest}"] = value.contiguous()
    save_file(authors, tmp_path / "stack.safetensors")
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        single = load_published(folder)
        assert single.name == "DMPHN 1-2-4" and torch.equal(single(x), dmphn(x))
        two = load_published(tmp_path / "stack.safetensors")
        assert two.name == "Stack(2)-DMPHN" and torch.equal(two(x), stack(x))
    (tmp_path / "bad.safetensors").write_bytes(b"not weights")
    with pytest.raises(WeightsError, match="not a safetensors file"):
        load_published(tmp_path / "bad.safetensors")
