"""Content-aware processing module: global attention and pixel-dependent filtering, mixed per pixel."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .global_attention import GlobalAttention
from .pixel_filter import PixelDependentFilter
from .recorder import Recorder


class CAPM(nn.Module):
    """F + W_p(g_global * out_global + g_local * out_local), g a per-pixel softmax over the two branches.

    Either branch can be switched off for ablations; with one branch there is nothing to gate.
    """

    def __init__(
        self,
        channels: int,
        *,
        maps: int = 8,
        kernel_size: int = 3,
        groups: int = 4,
        use_global: bool = True,
        use_local: bool = True,
        use_offsets: bool = True,
    ) -> None:
        super().__init__()
        if not (use_global or use_local):
            raise ValueError("a CAPM needs at least one of the global and local branches")
        self.global_branch = GlobalAttention(channels, maps) if use_global else None
        self.local_branch = (
            PixelDependentFilter(channels, kernel_size, groups, use_offsets) if use_local else None
        )
        both = use_global and use_local
        self.gate = nn.Conv2d(3 * channels, 2, 1) if both else None
        self.proj = nn.Conv2d(channels, channels, 1)
        # Starts as the identity, so a CAPM added to trained layers (DMPHN's) changes nothing until trained.
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, *, group: int = 1, recorder: Recorder | None = None) -> torch.Tensor:
        branches = []
        if self.global_branch is not None:
            branches.append(self.global_branch(x, group=group, recorder=recorder))
        if self.local_branch is not None:
            branches.append(self.local_branch(x, recorder=recorder))
        if self.gate is None:
            mixed = branches[0]
        else:
            # softmax over the gate's two logits is sigmoid(logit 0 - logit 1): one channel of the gate
            # convolution, summed over the three inputs instead of concatenating them (a full-size copy).
            weight = (self.gate.weight[0] - self.gate.weight[1]).unsqueeze(0)  # (1, 3C, 1, 1)
            bias = (self.gate.bias[0] - self.gate.bias[1]).unsqueeze(0)
            on_x, on_global, on_local = weight.chunk(3, dim=1)
            global_out, local_out = branches
            logit = F.conv2d(x, on_x, bias) + F.conv2d(global_out, on_global) + F.conv2d(local_out, on_local)
            mixed = torch.lerp(local_out, global_out, torch.sigmoid(logit))
        return x + self.proj(mixed)
