"""Feature distillation: a narrower student's stage-1 features learn a teacher's, through 1x1 projections.

Both networks must share the patch hierarchy's layout (backbone and levels), so every tapped feature map has
the same spatial shape in both; only the channels differ. The taps are each level's encoder bottleneck and
decoder output: the places where a level hands its work on (FitNets' hints, Romero et al. 2015).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..model.config import SAPHNetConfig
from ..model.patch_hierarchy import PatchHierarchy


def tap_channels(cfg: SAPHNetConfig) -> dict[str, int]:
    """Channels of each tapped map: `encoder{i}` (the bottleneck, 4C) and `decoder{i}` (C) per level."""
    taps = {}
    for level in range(cfg.levels):
        taps[f"encoder{level}"] = cfg.width * 4
        taps[f"decoder{level}"] = cfg.width
    return taps


def check_compatible(student: SAPHNetConfig, teacher: SAPHNetConfig) -> None:
    """Raise ValueError unless the two hierarchies lay their features out alike."""
    if (student.backbone, student.levels) != (teacher.backbone, teacher.levels):
        raise ValueError(
            f"feature distillation needs a teacher with the student's hierarchy: student {student.backbone} "
            f"backbone, {student.levels} levels; teacher {teacher.backbone}, {teacher.levels}"
        )


class FeatureTaps:
    """Keeps the tapped features of a `PatchHierarchy` from its latest forward pass (forward hooks)."""

    def __init__(self, hierarchy: PatchHierarchy) -> None:
        self.features: dict[str, torch.Tensor] = {}
        self._hooks = []
        for level, (encoder, decoder) in enumerate(zip(hierarchy.encoders, hierarchy.decoders, strict=True)):
            self._hooks.append(encoder.register_forward_hook(self._keeper(f"encoder{level}", -1)))
            self._hooks.append(decoder.register_forward_hook(self._keeper(f"decoder{level}", 1)))

    def _keeper(self, name: str, index: int) -> Any:
        def keep(module: nn.Module, inputs: Any, output: Sequence[torch.Tensor]) -> None:
            self.features[name] = output[index]

        return keep

    def take(self) -> dict[str, torch.Tensor]:
        """The features of the latest pass, forgotten here (so they are freed with the step's graph)."""
        features, self.features = self.features, {}
        return features

    def close(self) -> None:
        """Remove the hooks."""
        for hook in self._hooks:
            hook.remove()
        self._hooks = []


class FeatureProjections(nn.Module):
    """One 1x1 convolution per tap from the student's channels to the teacher's (the identity where they are
    equal). Trained with the student and dropped afterwards: the shipped network never runs them."""

    def __init__(self, student: SAPHNetConfig, teacher: SAPHNetConfig) -> None:
        super().__init__()
        check_compatible(student, teacher)
        target = tap_channels(teacher)
        self.maps = nn.ModuleDict()
        for name, channels in tap_channels(student).items():
            conv = nn.Conv2d(channels, target[name], 1)
            if channels == target[name]:
                with torch.no_grad():
                    conv.weight.copy_(torch.eye(channels).view(channels, channels, 1, 1))
                    conv.bias.zero_()
            self.maps[name] = conv

    def forward(
        self, student: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor], index: torch.Tensor
    ) -> torch.Tensor:
        """Mean over the taps of ||P s - t||^2 / ||t||^2 on the images `index` picks from the student's batch
        (the teacher saw only those): relative errors, so every tap and scale weighs alike."""
        images = student["decoder0"].shape[0]  # the whole-image level's rows
        losses = []
        for name, conv in self.maps.items():
            s, t = student[name], teacher[name].float()
            # Levels that split images stack their parts part-major: part p of image i is row p * N + i.
            parts = torch.arange(s.shape[0] // images, device=index.device).view(-1, 1)
            s = s[(parts * images + index.view(1, -1)).flatten()]
            error = (conv(s.float()) - t).square().mean()
            losses.append(error / t.square().mean().clamp_min(1e-8))
        return torch.stack(losses).mean()
