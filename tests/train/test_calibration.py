import math

import numpy as np
import pytest
import torch

from deblur_cli.model import create_model
from deblur_cli.train.calibration import SPREAD, calibrate_policies


@pytest.fixture()
def model_and_crops():
    torch.manual_seed(0)
    model = create_model("saphnet-test").eval()
    crops = [torch.rand(1, 3, 64, 64) for _ in range(4)]
    return model, crops


def test_calibration_keeps_every_choice_and_pixel(model_and_crops):
    model, crops = model_and_crops
    with torch.inference_mode():
        before = [model(c) for c in crops]
    calibrate_policies(model, crops)
    with torch.inference_mode():
        after = [model(c) for c in crops]
    for b, a in zip(before, after, strict=True):
        for chosen_b, chosen_a in zip(b.chosen, a.chosen, strict=True):
            assert torch.equal(chosen_b, chosen_a)
        torch.testing.assert_close(a.image, b.image)


def test_calibrated_logits_centre_on_the_cut_with_the_set_spread(model_and_crops):
    model, crops = model_and_crops
    report = calibrate_policies(model, crops)
    assert len(report) == len(model.policies)
    with torch.inference_mode():
        outputs = [model(c) for c in crops]
    for s, stage in enumerate(report):
        assert stage.p5 <= stage.cut <= stage.p95 and stage.temperature > 0
        values = np.concatenate([o.logits[s].flatten().numpy() for o in outputs])
        assert np.percentile(values, 95) - np.percentile(values, 5) == pytest.approx(SPREAD, rel=1e-4)
        cuts = []
        for o in outputs:
            v = np.sort(o.logits[s].flatten().numpy())[::-1]
            cuts.append(v[math.ceil(model.config.budget[s] * v.size) - 1])
        assert np.median(cuts) == pytest.approx(0.0, abs=1e-4)


def test_calibration_needs_crops():
    with pytest.raises(ValueError, match="at least one crop"):
        calibrate_policies(create_model("saphnet-test").eval(), [])
