"""`deblur bench` through CliRunner: JSON and table output, bad options."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from deblur_cli.cli import app

_FAST = ["bench", "-m", "saphnet-test", "--device", "cpu", "--threads", "1", "--repeats", "2"]


def test_bench_json_is_parseable_and_complete() -> None:
    result = CliRunner().invoke(app, [*_FAST, "--sizes", "48,32", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "saphnet-test" and data["device"] == "cpu" and data["threads"] == 1
    assert [(s["width"], s["height"]) for s in data["sizes"]] == [(32, 32), (48, 48)]
    for size in data["sizes"]:
        assert len(size["seconds"]) == 2 and size["median_seconds"] > 0
        assert size["seconds_per_megapixel"] > 0 and size["megapixels_per_second"] > 0
        assert size["peak_bytes"] > 0


def test_bench_table_with_reference() -> None:
    result = CliRunner().invoke(app, [*_FAST, "--sizes", "40x24", "--reference", "dmphn", "--budget", "0.1"])
    assert result.exit_code == 0, result.output
    assert "40x24" in result.stdout and "dmphn" in result.stdout and "budget 0.1" in result.stdout


def test_bench_reports_the_passes_per_tile() -> None:
    result = CliRunner().invoke(app, [*_FAST, "--sizes", "32", "--ensemble", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ensemble"] == 2
    result = CliRunner().invoke(app, [*_FAST, "--sizes", "32", "--ensemble", "4"])
    assert result.exit_code == 0 and "4 passes per tile" in " ".join(result.stdout.split()), result.output


def test_bench_rejects_bad_options() -> None:
    for args in (["--sizes", "big"], ["--reference", "srn"], ["--repeats", "0"], ["-m", "nope"],
                 ["--ensemble", "5"]):
        result = CliRunner().invoke(app, [*_FAST, *args])
        assert result.exit_code == 2, (args, result.output)
