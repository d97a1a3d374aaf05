import dataclasses
import logging
import math

import cv2
import numpy as np
import pytest
import torch

from deblur_cli import Deblurrer
from deblur_cli.train.trainer import RUNTIME_SETTINGS, IndexStream, TrainConfig, Trainer, lr_at, phase_at


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(3):
        noise = rng.random((12, 12, 3)).astype(np.float32)
        photo = cv2.resize(noise, (96, 96), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(root / f"train_{i}.png"), (np.clip(photo, 0, 1) * 255).astype(np.uint8))
    return root


def _config(photos, **overrides):
    base = dict(
        preset="saphnet-test",
        sharp_dirs=[str(photos)],
        crop=32,
        batch_size=2,
        steps=40,
        lr=2e-3,
        warmup=2,
        stage1_steps=2,
        random_steps=2,
        checkpoint_every=1000,
        val_every=1000,
        threads=1,
    )
    return TrainConfig(**{**base, **overrides})


def test_schedule_phases_and_learning_rate():
    cfg = TrainConfig(steps=1000, warmup=10, stage1_steps=100, random_steps=50, lr=1e-3, min_lr=1e-6)
    assert [phase_at(s, cfg) for s in (0, 99, 100, 149, 150)] == [
        "stage1",
        "stage1",
        "random",
        "random",
        "policy",
    ]
    assert lr_at(0, cfg) == pytest.approx(1e-4)
    assert lr_at(9, cfg) == pytest.approx(1e-3)
    assert lr_at(1000, cfg) == pytest.approx(1e-6)
    assert lr_at(505, cfg) == pytest.approx(0.5 * (1e-3 + 1e-6), rel=1e-3)


def test_index_stream_visits_every_item_once_per_epoch():
    stream = IndexStream(length=10, batch_size=5, seed=3)
    first = [i for step in (0, 1) for _, i in stream.batch(step)]
    assert sorted(first) == list(range(10))
    again = IndexStream(length=10, batch_size=5, seed=3)
    assert again.batch(1) == stream.batch(1)
    ranks = [IndexStream(10, 5, 3, rank=r, world=2).batch(0) for r in (0, 1)]
    assert sorted(i for batch in ranks for _, i in batch) == list(range(10))


def test_training_steps_lower_the_loss(photos, tmp_path):
    torch.manual_seed(0)
    trainer = Trainer(_config(photos, stage1_steps=100), tmp_path / "run", device="cpu")
    losses = [trainer.train_step()["loss"] for _ in range(30)]
    assert np.mean(losses[-8:]) < np.mean(losses[:8])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bare_cuda_device_trains_on_the_current_gpu(photos, tmp_path):
    trainer = Trainer(_config(photos), tmp_path / "run", device="cuda")
    assert trainer.device == torch.device("cuda", torch.cuda.current_device())
    assert math.isfinite(trainer.train_step()["loss"])


def test_checkpoint_resumes_to_the_same_state(photos, tmp_path):
    cfg = _config(photos)
    straight = Trainer(cfg, tmp_path / "a", device="cpu")
    straight.run(until=6)  # crosses all three phases: stage 1, random cells, policy

    first = Trainer(cfg, tmp_path / "b", device="cpu")
    first.run(until=3)
    assert (tmp_path / "b" / "checkpoint.pt").exists()
    resumed = Trainer(cfg, tmp_path / "b", device="cpu")
    resumed.load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    assert resumed.step == 3
    resumed.run(until=6)

    for (name, p), q in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name
    for p, q in zip(straight.ema.parameters(), resumed.ema.parameters(), strict=True):
        assert torch.equal(p, q)


def test_worker_processes_train_to_the_same_state(photos, tmp_path):
    # Workers build the same (epoch, index) items the step would build itself, and a run resumed with a
    # different number of workers continues the same run.
    cfg = _config(photos, batch_size=3, stage1_steps=1, random_steps=1)
    straight = Trainer(cfg, tmp_path / "a", device="cpu")
    straight.run(until=4)  # 12 items: crosses into a second epoch of the 3 photos

    first = Trainer(dataclasses.replace(cfg, workers=2), tmp_path / "b", device="cpu")
    first.run(until=2)
    resumed = Trainer(dataclasses.replace(cfg, workers=1), tmp_path / "b", device="cpu")
    resumed.load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    resumed.run(until=4)

    assert resumed.step == 4
    for (name, p), q in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name


def test_exported_weights_load_in_the_engine(photos, tmp_path):
    trainer = Trainer(_config(photos), tmp_path / "run", device="cpu")
    trainer.run(until=3)
    digest = trainer.export(tmp_path / "export")
    assert len(digest) == 64 and (tmp_path / "export" / "config.json").exists()

    deblurrer = Deblurrer.from_pretrained(
        "saphnet-test", weights=str(tmp_path / "export"), device="cpu", tile=0
    )
    assert not deblurrer.untrained
    image = (np.random.default_rng(1).random((40, 48, 3)) * 255).astype(np.uint8)
    restored = deblurrer.restore(image)
    with torch.inference_mode():
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
        expected = trainer.ema.eval()(x).image.clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255
    # fp16 storage of the weights: within a couple of 8-bit levels
    assert np.abs(restored.astype(np.float32) - expected).max() <= 2.0
    assert not math.isnan(float(restored.mean()))


def test_snapshots_hold_the_ema_of_their_step(photos, tmp_path):
    trainer = Trainer(_config(photos, snapshot_every=2), tmp_path / "run", device="cpu")
    trainer.run(until=4)
    snapshots = tmp_path / "run" / "snapshots"
    assert sorted(p.name for p in snapshots.iterdir()) == ["step-000002", "step-000004"]
    trainer.export(tmp_path / "end")  # the EMA at step 4, the last snapshot's step
    assert (snapshots / "step-000004" / "model.safetensors").read_bytes() == (
        tmp_path / "end" / "model.safetensors"
    ).read_bytes()
    assert (snapshots / "step-000002" / "model.safetensors").read_bytes() != (
        tmp_path / "end" / "model.safetensors"
    ).read_bytes()


def test_init_weights_takes_weights_but_not_the_schedule(photos, tmp_path):
    first = Trainer(_config(photos), tmp_path / "a", device="cpu")
    first.run(until=2)
    second = Trainer(_config(photos), tmp_path / "b", device="cpu")
    second.init_weights(tmp_path / "a" / "checkpoint.pt")
    assert second.step == 0
    for p, q in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_init_weights_from_published_weights_and_refuses_another_architecture(photos, tmp_path):
    first = Trainer(_config(photos), tmp_path / "a", device="cpu")
    first.run(until=2)
    first.export(tmp_path / "w")
    second = Trainer(_config(photos), tmp_path / "b", device="cpu")
    second.init_weights(tmp_path / "w")  # a weights folder: model.safetensors + config.json
    assert second.step == 0
    # fp16 storage: the model and the EMA both start from the exported EMA, within fp16 rounding
    pairs = zip(first.ema.parameters(), second.model.parameters(), second.ema.parameters(), strict=True)
    for p, q, r in pairs:
        assert torch.allclose(p, q, rtol=1e-3, atol=1e-4) and torch.equal(q, r)

    wider = Trainer(_config(photos, overrides={"width": 16}), tmp_path / "c", device="cpu")
    with pytest.raises(ValueError, match="does not fit preset saphnet-test"):
        wider.init_weights(tmp_path / "w" / "model.safetensors")


def test_compile_wraps_the_network_and_a_failing_compile_falls_back(photos, tmp_path, caplog):
    # Compiling itself takes minutes on 2 cores (benchmarks/train_step.py --compile), so it is not run here.
    trainer = Trainer(_config(photos, compile="default"), tmp_path / "run", device="cpu")
    assert trainer.net._orig_mod is trainer.model and trainer.eager_net is trainer.model
    assert "compile" in RUNTIME_SETTINGS  # a resumed run takes it from the new command

    class FailsToCompile(torch.nn.Module):
        def forward(self, *args, **kwargs):
            raise RuntimeError("no kernel for this graph\n(traceback)")

    trainer.net = FailsToCompile()  # stands in for the compiled network on its first call
    with caplog.at_level(logging.WARNING):
        trainer.run(until=3)
    assert trainer.step == 3 and trainer.net is trainer.model
    assert "torch.compile failed, training uncompiled: RuntimeError: no kernel for this graph" in caplog.text
    eager = Trainer(_config(photos), tmp_path / "eager", device="cpu")
    assert eager.net is eager.model


def test_frozen_backbone_keeps_stage_1_and_trains_the_additions(photos, tmp_path):
    torch.manual_seed(0)
    trainer = Trainer(_config(photos, freeze_backbone=True), tmp_path / "run", device="cpu")
    backbone = {id(p) for p in trainer.model.backbone_parameters()}
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    for _ in range(6):
        trainer.train_step()
    after = dict(trainer.model.named_parameters())
    frozen = [n for n, p in after.items() if id(p) in backbone]
    assert frozen and all(torch.equal(before[n], after[n]) for n in frozen)
    assert any("capm" in n and not torch.equal(before[n], p) for n, p in after.items())
    assert any(n.startswith("refiners") and not torch.equal(before[n], p) for n, p in after.items())


def test_teacher_output_is_a_second_target(photos, tmp_path):
    from safetensors.torch import save_file

    from deblur_cli.model.dmphn import DMPHN124

    torch.manual_seed(0)
    stage = DMPHN124()
    state = {}
    for key, value in stage.state_dict().items():
        part, _, rest = key.partition(".")
        kind, level = part.split("_")
        state[f"{kind}_s1_{level}.{rest}"] = value.contiguous()
    save_file(state, tmp_path / "teacher.safetensors")
    pairs = tmp_path / "pairs"
    for side in ("blur", "sharp"):
        (pairs / side).mkdir(parents=True)
        for photo in sorted(photos.glob("*.png")):
            (pairs / side / photo.name).write_bytes(photo.read_bytes())
    taught = Trainer(_config(photos, sharp_dirs=[], pair_dirs=[str(pairs)], mix=(0.0, 0.0, 1.0),
                             teacher=str(tmp_path / "teacher.safetensors"), teacher_weight=1.0),
                     tmp_path / "run", device="cpu")
    record = taught.train_step()
    assert record["distil"] > 0 and math.isfinite(record["loss"])
    synthetic = Trainer(_config(photos, teacher=str(tmp_path / "teacher.safetensors"), teacher_weight=1.0),
                        tmp_path / "synthetic", device="cpu")
    assert "distil" not in synthetic.train_step()  # camera shake + noise: the GoPro teacher is not a target
    (tmp_path / "bad.safetensors").write_bytes(b"not weights")
    with pytest.raises(ValueError, match=r"not a SAPHNet weights folder or Stack\(k\)-DMPHN / DMPHN weights"):
        Trainer(_config(photos, teacher=str(tmp_path / "bad.safetensors")), tmp_path / "r2", device="cpu")


DMPHN_TINY = {"backbone": "dmphn", "width": 8, "blocks": 1, "capm_scales": [], "cross_attention": False,
              "stages": 2, "budget": [0.25]}


def test_a_wider_dmphn_network_is_cut_down_to_start_a_student(photos, tmp_path):
    wide = Trainer(_config(photos, overrides={**DMPHN_TINY, "width": 16, "blocks": 2}), tmp_path / "a",
                   device="cpu")
    wide.export(tmp_path / "wide")
    student = Trainer(_config(photos, overrides=DMPHN_TINY), tmp_path / "b", device="cpu")
    assert student.init_weights(tmp_path / "wide") == "shrunk"
    embed = student.model.hierarchy.encoders[0].embed.weight
    assert torch.equal(embed, student.ema.hierarchy.encoders[0].embed.weight)
    teacher_rows = wide.ema.hierarchy.encoders[0].embed.weight.half().float()
    assert all(any(torch.allclose(row, t) for t in teacher_rows) for row in embed)  # kept, not made up
    same = Trainer(_config(photos, overrides=DMPHN_TINY), tmp_path / "c", device="cpu")
    student.export(tmp_path / "same")
    assert same.init_weights(tmp_path / "same") == "loaded"


def test_a_saphnet_weights_folder_teaches(photos, tmp_path):
    teacher = Trainer(_config(photos, overrides=DMPHN_TINY), tmp_path / "t", device="cpu")
    teacher.export(tmp_path / "teacher")
    pairs = tmp_path / "pairs"
    for side in ("blur", "sharp"):
        (pairs / side).mkdir(parents=True)
        for photo in sorted(photos.glob("*.png")):
            (pairs / side / photo.name).write_bytes(photo.read_bytes())
    taught = Trainer(_config(photos, sharp_dirs=[], pair_dirs=[str(pairs)], mix=(0.0, 0.0, 1.0),
                             teacher=str(tmp_path / "teacher"), teacher_weight=1.0),
                     tmp_path / "run", device="cpu")
    record = taught.train_step()
    assert record["distil"] > 0 and math.isfinite(record["loss"])


def test_policy_only_trains_the_policies_and_keeps_every_restoring_layer(photos, tmp_path):
    torch.manual_seed(0)
    trainer = Trainer(_config(photos, policy_only=True, stage1_steps=0), tmp_path / "run", device="cpu")
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    for _ in range(4):
        trainer.train_step()
    after = dict(trainer.model.named_parameters())
    assert all(torch.equal(before[n], p) for n, p in after.items() if not n.startswith("policies."))
    assert any(not torch.equal(before[n], p) for n, p in after.items() if n.startswith("policies."))


def test_weights_with_another_policy_start_a_run_with_new_policies(photos, tmp_path):
    old = Trainer(_config(photos, overrides={"policy_input": "features"}), tmp_path / "old", device="cpu")
    old.run(until=2)
    old.export(tmp_path / "w")
    trainer = Trainer(_config(photos), tmp_path / "new", device="cpu")
    fresh = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if n.startswith("policies.")}
    assert trainer.init_weights(tmp_path / "w") == "loaded, new policies"
    mine, theirs = dict(trainer.model.named_parameters()), dict(old.ema.named_parameters())
    assert all(torch.equal(fresh[n], mine[n]) for n in fresh)
    assert all(torch.allclose(p, mine[n], rtol=1e-3, atol=1e-4)
               for n, p in theirs.items() if not n.startswith("policies."))
