"""DMPHN 1-2-4 and Stack(4)-DMPHN (Zhang et al., "Deep Stacked Hierarchical Multi-patch Network for Image
Deblurring", CVPR 2019), written from the paper: the reference SAPHNet is measured against, and the
teachers whose published GoPro-trained weights start and distil it.

Per level an encoder (conv 3->32, 2 residual blocks, stride-2 conv 32->64, 2 blocks, stride-2 conv
64->128, 2 blocks) and a decoder mirroring it (2 blocks at 128, 4x4 transposed conv to 64, 2 blocks,
transposed conv to 32, 2 blocks, conv 32->3); every residual block is conv-ReLU-conv plus identity.
Level 3 encodes the 4 quadrants, joins their features into top and bottom halves and decodes each;
level 2 encodes the halves of (input + level-3 output), adds the level-3 features, decodes the joined
map; level 1 encodes input + level-2 output, adds the level-2 features and decodes the image.

Layer names follow the authors' published state dicts (``encoder_lv1.layer1.weight``, ...), so their
weights load with a plain ``load_state_dict``. The quadrants and halves of a level go through their
shared encoder as one batch (the same arithmetic as separate calls, and faster).
"""

from __future__ import annotations

import torch
from torch import nn

from . import layout

ENCODER_BLOCKS = ("layer2", "layer3", "layer6", "layer7", "layer10", "layer11")
"""The encoder's residual blocks, two per scale, finest first."""
DECODER_BLOCKS = ("layer21", "layer22", "layer17", "layer18", "layer13", "layer14")
"""The decoder's residual blocks, two per scale, finest first (they run coarsest first)."""


def _block(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels, channels, 3, padding=1),
    )


class DMPHNEncoder(nn.Module):
    """3 -> 32 -> 64 -> 128 channels, two stride-2 convolutions: features at 1/4 resolution."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1 = nn.Conv2d(3, 32, 3, padding=1)
        self.layer2, self.layer3 = _block(32), _block(32)
        self.layer5 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.layer6, self.layer7 = _block(64), _block(64)
        self.layer9 = nn.Conv2d(64, 128, 3, stride=2, padding=1)
        self.layer10, self.layer11 = _block(128), _block(128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer1(x)
        x = x + self.layer2(x)
        x = x + self.layer3(x)
        x = self.layer5(x)
        x = x + self.layer6(x)
        x = x + self.layer7(x)
        x = self.layer9(x)
        x = x + self.layer10(x)
        return x + self.layer11(x)


class DMPHNDecoder(nn.Module):
    """128 -> 64 -> 32 -> 3 channels, two 4x4 stride-2 transposed convolutions back to full resolution."""

    def __init__(self) -> None:
        super().__init__()
        self.layer13, self.layer14 = _block(128), _block(128)
        self.layer16 = nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1)
        self.layer17, self.layer18 = _block(64), _block(64)
        self.layer20 = nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
        self.layer21, self.layer22 = _block(32), _block(32)
        self.layer24 = nn.Conv2d(32, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.layer13(x)
        x = x + self.layer14(x)
        x = self.layer16(x)
        x = x + self.layer17(x)
        x = x + self.layer18(x)
        x = self.layer20(x)
        x = x + self.layer21(x)
        x = x + self.layer22(x)
        return self.layer24(x)


class DMPHN124(nn.Module):
    """The three-level (1-2-4) multi-patch hierarchy; input N x 3 x H x W in [0, 1], sides divisible by 8."""

    size_multiple = 8

    def __init__(self) -> None:
        super().__init__()
        self.encoder_lv1, self.encoder_lv2, self.encoder_lv3 = DMPHNEncoder(), DMPHNEncoder(), DMPHNEncoder()
        self.decoder_lv1, self.decoder_lv2, self.decoder_lv3 = DMPHNDecoder(), DMPHNDecoder(), DMPHNDecoder()

    def features(
        self, x: torch.Tensor, previous: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Run on x - 0.5; returns (output - 0.5, the whole-layout features of levels 3, 2 and 1).

        `previous` (a stack's earlier stage) adds that stage's same-level features to each encoder's.
        """
        _check_size(x, self.size_multiple)
        q = self.encoder_lv3(layout.split_quadrants(x))
        if previous is not None:
            q = q + layout.split_quadrants(previous[0])
        halves3 = layout.quadrants_to_halves(q)
        feature3 = layout.join_halves(halves3)
        residual3 = self.decoder_lv3(halves3)

        h2 = self.encoder_lv2(layout.split_halves(x) + residual3)
        if previous is not None:
            h2 = h2 + layout.split_halves(previous[1])
        feature2 = layout.join_halves(h2) + feature3
        residual2 = self.decoder_lv2(feature2)

        feature1 = self.encoder_lv1(x + residual2)
        if previous is not None:
            feature1 = feature1 + previous[2]
        feature1 = feature1 + feature2
        return self.decoder_lv1(feature1), (feature3, feature2, feature1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Deblur x in [0, 1]; like the paper's code, the network works on x - 0.5."""
        out, _ = self.features(x - 0.5)
        return out + 0.5


class StackDMPHN(nn.Module):
    """Stack(k)-DMPHN: k DMPHN 1-2-4 stages, each restoring the previous stage's output; a later stage's
    encoders also add the previous stage's features at the same level. Layer names follow the authors'
    files: ``encoder_s2_lv1.layer1.weight``."""

    size_multiple = 8

    def __init__(self, stages: int = 4) -> None:
        super().__init__()
        self.stages = nn.ModuleList(DMPHN124() for _ in range(stages))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image, feats = self.stages[0].features(x - 0.5)
        for stage in self.stages[1:]:
            image, feats = stage.features(image, feats)
        return image + 0.5

    def load_authors_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load keys ``{encoder,decoder}_s{k}_lv{l}.<layer>`` (strict)."""
        renamed = {}
        for key, value in state.items():
            part, _, rest = key.partition(".")
            kind, stage, level = part.split("_")
            renamed[f"stages.{int(stage[1:]) - 1}.{kind}_{level}.{rest}"] = value
        self.load_state_dict(renamed)


def _check_size(x: torch.Tensor, multiple: int) -> None:
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        raise ValueError(f"DMPHN needs sides divisible by {multiple}, got {h} x {w}")
