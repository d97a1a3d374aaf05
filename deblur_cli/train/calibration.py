"""Rescale each sampling policy's last layer so its P_s reads as "how far above the budget's cut-off".

Policy-gradient training drives the policies' logits far below zero (every P_s rounds to 0 and the
difficulty heatmap goes black) while top-K still ranks the cells well. Per refinement stage this sets
logits' = (logits - t) / T, with t the median logit at which top-K cuts at the preset's budget and T the
5-95 % spread of the logits over 2 ln 19, so that spread maps to P = 0.05..0.95 around the cut. The
ranking, hence every choice and every restored pixel, is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from ..model import SAPHNet

SPREAD = 2 * math.log(19)
"""The logit distance between P = 0.05 and P = 0.95."""


@dataclass(frozen=True)
class StageCalibration:
    """What one refinement stage's logits looked like on the calibration crops, and the rescaling."""

    cut: float
    """t: median over crops of the logit at which top-K cuts at the budget."""
    temperature: float
    """T: the 5-95 % spread of the logits over 2 ln 19."""
    p5: float
    p95: float


@torch.inference_mode()
def calibrate_policies(model: SAPHNet, crops: Iterable[torch.Tensor]) -> list[StageCalibration]:
    """Measure the policies' logits on `crops` (each 1 x 3 x H x W), then rescale each policy's last
    convolution in place. The model should be in eval mode (top-K, as at inference)."""
    logits: list[list[np.ndarray]] = [[] for _ in model.policies]
    cuts: list[list[float]] = [[] for _ in model.policies]
    for crop in crops:
        for s, stage_logits in enumerate(model(crop).logits):
            values = stage_logits.flatten().float().cpu().numpy()
            k = math.ceil(model.config.budget[s] * values.size)
            logits[s].append(values)
            cuts[s].append(float(np.sort(values)[::-1][k - 1]))
    if not cuts[0]:
        raise ValueError("calibration needs at least one crop")
    report = []
    for s, policy in enumerate(model.policies):
        values = np.concatenate(logits[s])
        p5, p95 = (float(np.percentile(values, q)) for q in (5, 95))
        cut, temperature = float(np.median(cuts[s])), (p95 - p5) / SPREAD
        if not temperature > 0:
            raise ValueError(f"stage {s + 2}'s logits do not spread (5-95 %: {p5}..{p95}): cannot calibrate")
        last = policy.head[-1]
        last.weight.div_(temperature)
        last.bias.sub_(cut).div_(temperature)
        report.append(StageCalibration(cut, temperature, p5, p95))
    return report
