"""SAPHNetConfig: command-line overrides typed like each field, the JSON round trip."""

from __future__ import annotations

import pytest

from deblur_cli.model import SAPHNetConfig, create_model


@pytest.mark.parametrize(("text", "expected"), [
    ("blocks=1", ("blocks", 1)),
    ("width = 16", ("width", 16)),
    ("cross_attention=false", ("cross_attention", False)),
    ("sampling=1", ("sampling", True)),
    ("backbone=dmphn", ("backbone", "dmphn")),
    ("capm_scales=", ("capm_scales", ())),
    ("capm_scales=2", ("capm_scales", (2,))),
    ("budget=0.3,0.15", ("budget", (0.3, 0.15))),
])
def test_overrides_take_the_type_of_the_field(text: str, expected: tuple) -> None:
    assert SAPHNetConfig.parse_override(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("blocks", "expected FIELD=VALUE"),
    ("extra=1", "FIELD one of"),
    ("sampling=maybe", "sampling takes bool"),
    ("budget=a,b", "budget takes comma-separated values"),
])
def test_bad_overrides_say_what_the_field_takes(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SAPHNetConfig.parse_override(text)


def test_an_overridden_config_survives_its_json_round_trip() -> None:
    overrides = dict(map(SAPHNetConfig.parse_override, ["blocks=1", "width=16"]))
    config = create_model("saphnet-s", **overrides).config
    assert config.blocks == 1 and config.width == 16
    assert SAPHNetConfig.from_dict(config.to_dict()) == config
