import json

import cv2
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from deblur_cli.cli import app
from deblur_cli.train.trainer import TrainConfig, lr_at

runner = CliRunner()


def _photos(root, count=2, size=96):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        photo = cv2.resize(
            rng.random((12, 12, 3)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC
        )
        cv2.imwrite(str(root / f"p{i}.png"), (np.clip(photo, 0, 1) * 255).astype(np.uint8))
    return root


def _tiny_run(tmp_path, photos, steps=1):
    """`deblur train` arguments for a run of a few steps of the tiny preset on the CPU, into tmp_path/run."""
    args = ["train", "-o", str(tmp_path / "run"), "--preset", "saphnet-test", "--sharp", str(photos)]
    args += ["--crop", "32", "--batch-size", "1", "--steps", str(steps), "--threads", "1", "--device", "cpu"]
    return args


def test_train_writes_checkpoint_log_and_export_then_resumes(tmp_path):
    photos = _photos(tmp_path / "photos")
    args = [
        "train",
        "-o",
        str(tmp_path / "run"),
        "--preset",
        "saphnet-test",
        "--sharp",
        str(photos),
        "--crop",
        "32",
        "--batch-size",
        "2",
        "--steps",
        "3",
        "--warmup",
        "1",
        "--stage1-steps",
        "1",
        "--random-steps",
        "1",
        "--threads",
        "1",
        "--export",
        str(tmp_path / "w"),
        "--device",
        "cpu",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "checkpoint.pt").exists() and (tmp_path / "w" / "model.safetensors").exists()
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    assert [r["phase"] for r in records] == ["stage1", "random", "policy"]
    # seconds since the run began, rising: gpu_train.sh times the steady rate from them
    assert 0 < records[0]["seconds"] < records[1]["seconds"] < records[2]["seconds"]

    again = runner.invoke(
        app, [*args[:-4], "--steps", "3", "--workers", "1", "--frame-cache", "4", "--snapshot-every", "1"]
    )
    assert again.exit_code == 0 and "resumed" in again.output
    assert "ignored" not in again.output  # speed settings are the new command's, never a changed run

    changed = runner.invoke(app, [*args[:-4], "--steps", "5", "--lr", "1e-3"])
    assert changed.exit_code == 0, changed.output
    assert "changes to steps, lr ignored" in " ".join(changed.output.split())
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]  # the saved run ends at its own 3 steps


def test_train_until_stops_early_exports_that_step_and_resumes_on_the_same_schedule(tmp_path):
    photos = _photos(tmp_path / "photos")
    base = ["train", "-o", str(tmp_path / "run"), "--preset", "saphnet-test", "--sharp", str(photos)]
    base += ["--crop", "32", "--batch-size", "1", "--steps", "4", "--warmup", "1", "--threads", "1"]
    base += ["--device", "cpu"]

    result = runner.invoke(app, [*base, "--until", "2", "--export", str(tmp_path / "w2")])
    assert result.exit_code == 0, result.output
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert saved["step"] == 2 and saved["config"]["steps"] == 4
    assert (tmp_path / "w2" / "model.safetensors").exists()

    rest = runner.invoke(app, base)
    assert rest.exit_code == 0 and "ignored" not in rest.output
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    # one schedule over all 4 steps, neither cut short at 2 nor restarted there
    cfg = TrainConfig.from_dict(saved["config"])
    assert [r["lr"] for r in records] == pytest.approx([lr_at(r["step"] - 1, cfg) for r in records])


def test_eval_scores_pairs_and_reports_json(tmp_path):
    sharp = _photos(tmp_path / "sharp")
    blur = tmp_path / "blur"
    blur.mkdir()
    for path in sharp.iterdir():
        cv2.imwrite(str(blur / path.name), cv2.GaussianBlur(cv2.imread(str(path)), (7, 7), 2))
    result = runner.invoke(
        app, ["eval", str(blur), str(sharp), "--model", "saphnet-test", "--json", "--device", "cpu"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert len(report["pairs"]) == 2
    # an untrained (identity) network scores exactly what its input scores
    assert abs(report["mean"]["psnr"] - report["mean"]["input_psnr"]) < 0.05


def test_eval_against_a_published_network_runs_it_through_the_same_engine(tmp_path):
    """saphnet-b holding DMPHN's weights, refinement off, scores what DMPHN itself scores, side by side."""
    from safetensors.torch import save_file

    from deblur_cli.model.dmphn import DMPHN124

    sharp = _photos(tmp_path / "sharp", size=64)
    blur = tmp_path / "blur"
    blur.mkdir()
    for path in sharp.iterdir():
        cv2.imwrite(str(blur / path.name), cv2.GaussianBlur(cv2.imread(str(path)), (7, 7), 2))
    torch.manual_seed(0)
    dmphn = DMPHN124()
    save_file({k: v.contiguous() for k, v in dmphn.state_dict().items()}, tmp_path / "dmphn.safetensors")
    imported = tmp_path / "imported"
    assert runner.invoke(app, ["weights", "import", "dmphn", str(tmp_path / "dmphn.safetensors"),
                               "-o", str(imported)]).exit_code == 0
    result = runner.invoke(app, ["eval", str(blur), str(sharp), "--weights", str(imported), "--budget", "0",
                                 "--against", str(tmp_path / "dmphn.safetensors"), "--device", "cpu",
                                 "--precision", "fp32", "--ensemble", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["settings"] == {"model": str(imported), "device": "cpu", "precision": "fp32",
                                  "tile": "auto", "budget": 0.0, "ensemble": 2}
    ours, theirs = report["mean"]["psnr"], report["against"]["DMPHN 1-2-4"]["mean"]["psnr"]
    assert abs(report["mean"]["psnr"] - report["mean"]["input_psnr"]) > 0.5  # random weights: far from input
    assert abs(ours - theirs) < 0.2  # the same network, but stored in fp16


def test_eval_mismatched_folders_fail_in_one_line(tmp_path):
    sharp = _photos(tmp_path / "sharp", count=2)
    blur = _photos(tmp_path / "blur", count=1)
    (blur / "p0.png").rename(blur / "other.png")
    result = runner.invoke(app, ["eval", str(blur), str(sharp), "--model", "saphnet-test", "--device", "cpu"])
    assert result.exit_code == 1


def test_train_mix_sets_the_share_of_each_source(tmp_path):
    photos = _photos(tmp_path / "photos")
    base = _tiny_run(tmp_path, photos)

    result = runner.invoke(app, [*base, "--mix", "2,1,0"])
    assert result.exit_code == 0, result.output
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert tuple(saved["config"]["mix"]) == (2.0, 1.0, 0.0)

    for bad in ("1,2", "a,b,c", "-1,1,1", "0,0,0"):
        failed = runner.invoke(app, [*base, "-o", str(tmp_path / "bad"), "--mix", bad])
        assert failed.exit_code == 2, failed.output
        assert "three non-negative shares" in " ".join(failed.output.split())
        assert not (tmp_path / "bad").exists()


def test_train_pixel_loss_is_saved_and_trains(tmp_path):
    photos = _photos(tmp_path / "photos")
    result = runner.invoke(app, [*_tiny_run(tmp_path, photos, steps=2), "--pixel-loss", "rmse"])
    assert result.exit_code == 0, result.output
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert saved["config"]["loss"]["pixel"] == "rmse" and saved["step"] == 2
    assert TrainConfig.from_dict(saved["config"]).loss.pixel == "rmse"


def test_train_synthesis_and_frame_stride_options_are_saved_and_checked(tmp_path):
    photos = _photos(tmp_path / "photos")
    base = _tiny_run(tmp_path, photos)

    options = ["--synth", "blur_length=0.05,0.3", "--synth", "jpeg_probability=0", "--frame-stride", "1,3"]
    result = runner.invoke(app, [*base, *options, "--frame-cache", "8"])
    assert result.exit_code == 0, result.output
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert saved["config"]["synthesis"] == {"blur_length": (0.05, 0.3), "jpeg_probability": 0.0}
    assert tuple(saved["config"]["frame_stride"]) == (1, 3)
    assert saved["config"]["frame_cache"] == 8
    assert saved["config"]["loss"]["pixel"] == "charbonnier"

    for bad, message in (
        (["--synth", "blur_length=0.3"], "blur_length takes LO,HI"),
        (["--synth", "colour=1"], "FIELD one of"),
        (["--synth", "jpeg_quality=0,90"], "jpeg_quality must lie in"),
        (["--frame-stride", "0,2"], "1 <= LO <= HI"),
        (["--frame-stride", "x"], "1 <= LO <= HI"),
        (["--pixel-loss", "l2"], "--pixel-loss"),
        (["--compile", "fast"], "--compile"),
    ):
        failed = runner.invoke(app, [*base, "-o", str(tmp_path / "bad"), *bad])
        assert failed.exit_code == 2, failed.output
        assert message in " ".join(failed.output.split())
        assert not (tmp_path / "bad").exists()


def test_train_arch_changes_the_network_and_the_export_records_it(tmp_path):
    from deblur_cli.weights import load_model

    photos = _photos(tmp_path / "photos")
    base = _tiny_run(tmp_path, photos)
    options = ["--arch", "blocks=2", "--arch", "capm_scales=", "--arch", "budget=0.3,0.1"]
    result = runner.invoke(app, [*base, *options, "--export", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert saved["config"]["overrides"] == {"blocks": 2, "capm_scales": (), "budget": (0.3, 0.1)}
    document = json.loads((tmp_path / "w" / "config.json").read_text())
    assert document["preset"] is None  # no longer the preset it started from
    assert document["config"]["blocks"] == 2 and document["config"]["capm_scales"] == []
    model, _ = load_model(tmp_path / "w")
    assert model.config.blocks == 2 and model.config.budget == (0.3, 0.1)

    for bad, message in (
        (["--arch", "depth=2"], "FIELD one of"),
        (["--arch", "blocks=two"], "blocks takes int"),
        (["--arch", "levels=4"], "levels must be 1, 2 or 3"),
        (["--arch", "budget=0.3"], "budget needs 2 fractions"),
    ):
        failed = runner.invoke(app, [*base, "-o", str(tmp_path / "bad"), *bad])
        assert failed.exit_code == 2, failed.output
        assert message in " ".join(failed.output.split())
        assert not (tmp_path / "bad").exists()
