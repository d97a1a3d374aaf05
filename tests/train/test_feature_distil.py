"""Feature distillation: taps, projections and the trainer's use of them, on tiny DMPHN-layout networks."""

import math

import cv2
import numpy as np
import pytest
import torch
from safetensors import safe_open

from deblur_cli.model import create_model
from deblur_cli.train.feature_distil import FeatureProjections, FeatureTaps, tap_channels
from deblur_cli.train.trainer import TrainConfig, Trainer

TINY = {"backbone": "dmphn", "width": 8, "blocks": 1, "capm_scales": (), "cross_attention": False,
        "stages": 2, "budget": (0.25,)}


def _net(seed: int, **overrides):
    torch.manual_seed(seed)
    return create_model("saphnet-test", **{**TINY, **overrides}).eval()


def _features(net, x):
    taps = FeatureTaps(net.hierarchy)
    with torch.no_grad():
        net(x, budget=0.0)
    taps.close()
    return taps.take()


def test_taps_hold_each_levels_bottleneck_and_decoder_output():
    x = torch.rand(2, 3, 32, 32)
    features = _features(_net(0), x)
    assert set(features) == set(tap_channels(_net(0).config))
    # A level decodes one step coarser in parts than it encodes: halves -> whole, quadrants -> halves.
    rows = {"encoder0": 2, "decoder0": 2, "encoder1": 4, "decoder1": 2, "encoder2": 8, "decoder2": 4}
    for name, tensor in features.items():
        assert tensor.shape[0] == rows[name]
        assert tensor.shape[1] == (32 if name.startswith("encoder") else 8)


def test_the_same_network_matches_itself_exactly():
    net = _net(0)
    x = torch.rand(2, 3, 32, 32)
    projections = FeatureProjections(net.config, net.config)
    with torch.no_grad():
        same = projections(_features(net, x), _features(net, x), torch.arange(2))
        other = projections(_features(_net(1), x), _features(net, x), torch.arange(2))
    assert float(same) == pytest.approx(0.0, abs=1e-10)
    assert float(other) > 0.01


def test_a_subset_of_the_batch_is_matched_part_for_part():
    student, teacher = _net(0), _net(1, width=16)
    x = torch.rand(3, 3, 32, 32)
    projections = FeatureProjections(student.config, teacher.config)
    picked = torch.tensor([0, 2])
    with torch.no_grad():
        from_batch = projections(_features(student, x), _features(teacher, x[picked]), picked)
        alone = projections(_features(student, x[picked]), _features(teacher, x[picked]), torch.arange(2))
    assert float(from_batch) == pytest.approx(float(alone), rel=1e-5)


def test_another_hierarchy_is_refused():
    with pytest.raises(ValueError, match="teacher with the student's hierarchy"):
        FeatureProjections(_net(0).config, _net(0, levels=2).config)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    for side in ("blur", "sharp"):
        (root / side).mkdir()
    for i in range(3):
        noise = rng.random((12, 12, 3)).astype(np.float32)
        photo = cv2.resize(noise, (96, 96), interpolation=cv2.INTER_CUBIC)
        image = (np.clip(photo, 0, 1) * 255).astype(np.uint8)
        cv2.imwrite(str(root / "sharp" / f"{i}.png"), image)
        cv2.imwrite(str(root / "blur" / f"{i}.png"), cv2.blur(image, (5, 5)))
    return root


def _config(pairs, **overrides):
    base = dict(preset="saphnet-test", pair_dirs=[str(pairs)], mix=(0.0, 0.0, 1.0), crop=32, batch_size=2,
                steps=40, lr=2e-3, warmup=2, stage1_steps=40, random_steps=0, checkpoint_every=1000,
                val_every=1000, threads=1, overrides=TINY)
    return TrainConfig(**{**base, **overrides})


def test_the_trainer_learns_the_teachers_features_and_resumes_them(pairs, tmp_path):
    teacher = Trainer(_config(pairs, overrides={**TINY, "width": 16}), tmp_path / "t", device="cpu")
    teacher.export(tmp_path / "teacher")
    cfg = _config(pairs, teacher=str(tmp_path / "teacher"), teacher_weight=1.0, feature_weight=1.0)
    torch.manual_seed(0)
    trainer = Trainer(cfg, tmp_path / "run", device="cpu")
    first = trainer.train_step()["features"]
    records = [trainer.train_step() for _ in range(12)]
    assert all(math.isfinite(r["features"]) for r in records)
    assert np.mean([r["features"] for r in records[-4:]]) < first
    trainer.save_checkpoint()
    again = Trainer(cfg, tmp_path / "run2", device="cpu")
    again.load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    for mine, theirs in zip(again.projections.parameters(), trainer.projections.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    trainer.export(tmp_path / "student")  # the student alone: the projections stay in the checkpoint
    with safe_open(tmp_path / "student" / "model.safetensors", "pt") as exported:
        assert set(exported.keys()) == set(trainer.model.state_dict())


def test_feature_weight_needs_a_saphnet_teacher(pairs, tmp_path):
    with pytest.raises(ValueError, match="--feature-weight needs a SAPHNet weights folder"):
        Trainer(_config(pairs, feature_weight=1.0), tmp_path / "run", device="cpu")
