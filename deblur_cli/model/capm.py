"""Content-aware processing module: global attention and pixel-dependent filtering, mixed per pixel."""

from __future__ import annotations

import torch
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
            gate = torch.softmax(self.gate(torch.cat([x, *branches], dim=1)), dim=1)
            mixed = gate[:, :1] * branches[0] + gate[:, 1:] * branches[1]
        return x + self.proj(mixed)
