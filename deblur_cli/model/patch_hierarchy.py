"""Stage 1: the dense patch hierarchy (levels 1-2-4, after DMPHN) with cross-attention between levels."""

from __future__ import annotations

import torch
from torch import nn

from . import layout
from .config import SAPHNetConfig
from .cross_merge import CrossMerge
from .encoder_decoder import Decoder, Encoder
from .recorder import Recorder


class PatchHierarchy(nn.Module):
    """Coarse-to-fine over patches: the quadrant level restores each quarter, the halves level adds its
    residual and the level-3 features, the whole-image level finishes. Each level is an encoder-decoder;
    level features meet through cross-attention."""

    def __init__(self, cfg: SAPHNetConfig) -> None:
        super().__init__()
        self.levels = cfg.levels
        self.dmphn = cfg.backbone == "dmphn"
        self.encoders = nn.ModuleList(Encoder(3, cfg) for _ in range(cfg.levels))
        self.decoders = nn.ModuleList(Decoder(cfg) for _ in range(cfg.levels))
        bottleneck = cfg.width * 4
        self.level_merges = nn.ModuleList(
            CrossMerge(bottleneck, cfg.attention_maps, cfg.cross_attention) for _ in range(cfg.levels - 1)
        )

    def forward(
        self, blurred: torch.Tensor, recorder: Recorder | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (I_1, full-resolution decoder features of level 1). Index 0 is the finest level (whole).

        DMPHN's backbone works on blurred - 0.5 and its last decoder gives the image; ours adds the last
        decoder's residual to the input."""
        if self.dmphn:
            blurred = blurred - 0.5
        residual = torch.zeros_like(blurred)
        carried: torch.Tensor | None = (
            None  # bottleneck features handed to the next finer level, whole layout
        )
        # Levels run from the most parts to the whole image: quadrants (level 3), halves (2), whole (1).
        for idx in range(self.levels - 1, -1, -1):
            part_layout: layout.Layout = ("whole", "halves", "quadrants")[idx]
            _set_layout(recorder, part_layout)
            inputs = blurred + residual
            if part_layout == "quadrants":
                inputs = layout.split_quadrants(inputs)
            elif part_layout == "halves":
                inputs = layout.split_halves(inputs)
            feats = self.encoders[idx](inputs, recorder=recorder)

            if carried is not None:
                source = layout.split_halves(carried) if part_layout == "halves" else carried
                _set_layout(recorder, part_layout)
                feats[-1] = self.level_merges[idx](feats[-1], source, recorder=recorder)

            # Decode one step coarser in parts than encoded: quadrants -> halves, halves -> whole.
            if part_layout == "quadrants":
                feats = [layout.quadrants_to_halves(f) for f in feats]
                decode_layout: layout.Layout = "halves"
            else:
                feats = [layout.join_layout(f, part_layout) for f in feats]
                decode_layout = "whole"
            _set_layout(recorder, decode_layout)
            level_residual, features = self.decoders[idx](feats, recorder=recorder)
            residual = layout.join_layout(level_residual, decode_layout)
            carried = layout.join_layout(feats[-1], decode_layout)
        _set_layout(recorder, "whole")
        return (residual + 0.5 if self.dmphn else blurred + residual), features


def _set_layout(recorder: Recorder | None, part_layout: layout.Layout) -> None:
    if recorder is not None:
        recorder.layout = part_layout
