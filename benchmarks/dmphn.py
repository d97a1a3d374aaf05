"""DMPHN 1-2-4, the speed reference: Zhang et al., "Deep Stacked Hierarchical Multi-patch Network for
Image Deblurring", CVPR 2019, written from the paper (random weights: speed does not depend on them).

Per level an encoder (conv 3->32, 2 residual blocks, stride-2 conv 32->64, 2 blocks, stride-2 conv
64->128, 2 blocks) and a decoder mirroring it (2 blocks at 128, 4x4 transposed conv to 64, 2 blocks,
transposed conv to 32, 2 blocks, conv 32->3); every residual block is conv-ReLU-conv plus identity.
Level 3 encodes the 4 quadrants, joins their features into top and bottom halves and decodes each;
level 2 encodes the halves of (input + level-3 residual), adds the level-3 features, decodes the joined
map; level 1 encodes input + level-2 residual, adds the level-2 features and decodes the output.

Parameters: 1,808,131 per level, 5,424,393 for the three levels (21.7 MB in fp32, the size the paper
gives for DMPHN 1-2-4; its 1-2-4-8 model, four levels, is the one near 7.2 M).

The quadrants and halves of a level go through their shared encoder as one batch (the same arithmetic
as separate calls, and faster), so the reference is not handicapped by Python-level looping.
"""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """x + conv(ReLU(conv(x))), 3x3 convolutions at constant width."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _blocks(channels: int, count: int = 2) -> list[nn.Module]:
    return [ResidualBlock(channels) for _ in range(count)]


class DMPHNEncoder(nn.Module):
    """3 -> 32 -> 64 -> 128 channels, two stride-2 convolutions: features at 1/4 resolution."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), *_blocks(32),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), *_blocks(64),
            nn.Conv2d(64, 128, 3, stride=2, padding=1), *_blocks(128),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class DMPHNDecoder(nn.Module):
    """128 -> 64 -> 32 -> 3 channels, two 4x4 stride-2 transposed convolutions back to full resolution."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            *_blocks(128), nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1),
            *_blocks(64), nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
            *_blocks(32), nn.Conv2d(32, 3, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class DMPHN124(nn.Module):
    """The three-level (1-2-4) multi-patch hierarchy; input N x 3 x H x W with H, W divisible by 8."""

    size_multiple = 8

    def __init__(self) -> None:
        super().__init__()
        self.encoders = nn.ModuleList(DMPHNEncoder() for _ in range(3))  # index 0 = level 1 (whole)
        self.decoders = nn.ModuleList(DMPHNDecoder() for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Deblur x in [0, 1]; like the paper's code, the network works on x - 0.5."""
        n, _, h, w = x.shape
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(f"DMPHN 1-2-4 needs sides divisible by {self.size_multiple}, got {h} x {w}")
        x = x - 0.5
        hh, hw = h // 2, w // 2

        # Level 3: four quadrants through one encoder, joined into top and bottom halves, each decoded.
        quadrants = torch.cat(
            [x[..., :hh, :hw], x[..., :hh, hw:], x[..., hh:, :hw], x[..., hh:, hw:]], dim=0
        )
        q = self.encoders[2](quadrants).split(n)  # top-left, top-right, bottom-left, bottom-right
        halves3 = torch.cat([torch.cat([q[0], q[1]], dim=3), torch.cat([q[2], q[3]], dim=3)], dim=0)
        residual3 = self.decoders[2](halves3)  # (2N, 3, H/2, W): top halves, then bottom halves
        feature3 = torch.cat(halves3.split(n), dim=2)  # whole-image layout

        # Level 2: the two halves of (input + level-3 residual), plus level-3 features.
        halves = torch.cat([x[..., :hh, :], x[..., hh:, :]], dim=0) + residual3
        top, bottom = self.encoders[1](halves).split(n)
        feature2 = torch.cat([top, bottom], dim=2) + feature3
        residual2 = self.decoders[1](feature2)

        # Level 1: the whole image plus the level-2 residual, plus level-2 features.
        feature1 = self.encoders[0](x + residual2) + feature2
        return self.decoders[0](feature1) + 0.5


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def create_dmphn() -> DMPHN124:
    """A randomly initialised DMPHN 1-2-4 in eval mode (the reference the benchmarks time)."""
    return DMPHN124().eval()
