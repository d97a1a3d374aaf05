"""deblur_cli.bench: sizes, alternating timing, and the report of a run through the engine."""

from __future__ import annotations

import json

import pytest
import torch

from deblur_cli.bench import alternate, bench, load_reference, parse_sizes
from deblur_cli.engine import Deblurrer
from deblur_cli.model import create_model


def test_parse_sizes_squares_rectangles_sorted_and_deduplicated() -> None:
    assert parse_sizes("1024, 512,1280x720,512") == [(512, 512), (1280, 720), (1024, 1024)]
    for bad in ("", "512,abc", "0", "12x", "x12"):
        with pytest.raises(ValueError):
            parse_sizes(bad)


def test_alternate_interleaves_runs_after_warmup() -> None:
    calls: list[str] = []
    times = alternate({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=3, warmup=1)
    assert calls == ["a", "b"] * 4
    assert set(times) == {"a", "b"}
    assert all(len(t) == 3 and all(s >= 0 for s in t) for t in times.values())
    with pytest.raises(ValueError):
        alternate({"a": lambda: None}, rounds=0)


def test_bench_reports_every_size_with_sane_fields() -> None:
    deblurrer = Deblurrer(create_model("saphnet-test"), device="cpu", tile=32, tile_overlap=8)
    report = bench(deblurrer, [(64, 48), (32, 32)], repeats=2, model_name="saphnet-test")
    assert [(s.width, s.height) for s in report.sizes] == [(32, 32), (64, 48)]
    small, large = report.sizes
    assert small.tiles == 1 and large.tiles > 1
    for size in report.sizes:
        assert len(size.seconds) == 2 and all(t > 0 for t in size.seconds)
        assert size.megapixels == pytest.approx(size.width * size.height / 1e6)
        assert size.seconds_per_megapixel == pytest.approx(size.median_seconds / size.megapixels)
        assert size.megapixels_per_second == pytest.approx(1 / size.seconds_per_megapixel)
        assert size.peak_bytes > 0 and size.baseline_bytes > 0
        assert size.reference_ratio is None
    assert report.device == "cpu" and report.precision == "fp32" and report.threads == 1
    assert report.parameters == sum(p.numel() for p in deblurrer.model.parameters())
    data = json.loads(json.dumps(report.to_dict()))
    assert data["model"] == "saphnet-test" and data["tile"] == "32"
    assert [s["width"] for s in data["sizes"]] == [32, 64]
    assert data["sizes"][1]["median_seconds"] == pytest.approx(large.median_seconds)
    with pytest.raises(ValueError):
        bench(deblurrer, [(32, 32)], repeats=0)


def test_bench_with_reference_times_both_networks() -> None:
    deblurrer = Deblurrer(create_model("saphnet-test"), device="cpu")
    report = bench(deblurrer, [(40, 40)], repeats=2, reference=load_reference("dmphn"))
    (size,) = report.sizes
    assert len(size.reference_seconds) == 2 and all(t > 0 for t in size.reference_seconds)
    assert size.reference_ratio is not None and size.reference_ratio > 0
    assert report.reference == "dmphn" and report.reference_parameters == 5_424_393
    assert size.to_dict()["reference_ratio"] == pytest.approx(size.reference_ratio)


def test_the_reference_runs_in_the_engines_memory_layout() -> None:
    layouts: list[bool] = []

    class Recording(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            layouts.append(x.is_contiguous(memory_format=torch.channels_last))
            layouts.append(self.conv.weight.is_contiguous(memory_format=torch.channels_last))
            return self.conv(x)

    deblurrer = Deblurrer(create_model("saphnet-test"), device="cpu")
    assert deblurrer.memory_format == torch.channels_last
    bench(deblurrer, [(40, 40)], repeats=1, warmup=0, reference=Recording())
    assert layouts and all(layouts)  # NCHW would time DMPHN's layout reorders, not DMPHN


def test_unknown_reference_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown reference"):
        load_reference("srn")


def test_bench_without_warmup_still_counts_tiles() -> None:
    deblurrer = Deblurrer(create_model("saphnet-test"), device="cpu", tile=32, tile_overlap=8)
    (size,) = bench(deblurrer, [(64, 64)], repeats=1, warmup=0).sizes
    assert size.tiles > 1 and len(size.seconds) == 1
    with pytest.raises(ValueError):
        bench(deblurrer, [(32, 32)], warmup=-1)
