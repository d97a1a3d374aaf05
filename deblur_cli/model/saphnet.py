"""SAPHNet: a dense patch-hierarchical first stage, then stages that refine only the hardest cells."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .cells import CellGrid, gather_cells, scatter_cells
from .config import SAPHNetConfig
from .descriptor import ModelDescriptor
from .patch_hierarchy import PatchHierarchy
from .recorder import Recorder
from .refiner import PatchRefiner
from .sampling_policy import SamplingPolicy, Selection, choose_cells

Budget = float | Sequence[float] | None


@dataclass
class SAPHNetOutput:
    """What one forward pass produced. Maps are on the cell grid of the input padded (bottom/right) to
    the size multiple; cell (i, j) covers pixels [i c, (i + 1) c) x [j c, (j + 1) c) of the input."""

    image: torch.Tensor
    """Last stage, N x 3 x H x W (not clamped)."""
    stages: list[torch.Tensor]
    """Every stage's image, first to last."""
    difficulty: list[torch.Tensor] = field(default_factory=list)
    """Per refinement stage: N x 1 x h x w, the policy's P_s in [0, 1] (ones when sampling is off)."""
    chosen: list[torch.Tensor] = field(default_factory=list)
    """Per refinement stage: N x 1 x h x w bool, the cells that stage refined."""
    attention: dict[str, torch.Tensor] = field(default_factory=dict)
    """Recorded attention maps, name -> N x M x h x w, each map a softmax over pixels (record=True)."""
    offsets: dict[str, torch.Tensor] = field(default_factory=dict)
    """Recorded filter offsets, name -> N x 2k^2 x h x w, in pixels of that map (record=True)."""
    cells: list[torch.Tensor] = field(default_factory=list)
    """Per refinement stage: N x K chosen cell numbers (raster order)."""
    log_probs: list[torch.Tensor] = field(default_factory=list)
    """Per refinement stage: N x K log P_s of the chosen cells, for the policy-gradient loss."""
    logits: list[torch.Tensor] = field(default_factory=list)
    """Per refinement stage: N x 1 x h x w policy logits (with gradient), for the entropy bonus."""


class SAPHNet(nn.Module):
    """Spatially-Attentive Patch-Hierarchical Network with adaptive sampling (DESIGN.md)."""

    def __init__(self, cfg: SAPHNetConfig) -> None:
        super().__init__()
        self.config = cfg
        self.hierarchy = PatchHierarchy(cfg)
        self.refiners = nn.ModuleList(PatchRefiner(cfg) for _ in range(cfg.refinement_stages))
        self.policies = (
            nn.ModuleList(
                SamplingPolicy(cfg.width, cfg.cell, cfg.policy_width) for _ in range(cfg.refinement_stages)
            )
            if cfg.sampling
            else nn.ModuleList()
        )
        for name, module in self.named_modules():
            if hasattr(module, "name") and isinstance(module.name, str):
                module.name = name

    @property
    def descriptor(self) -> ModelDescriptor:
        """Size multiple, minimum size, precisions and tiling safety."""
        return ModelDescriptor(
            size_multiple=self.config.size_multiple,
            min_size=1,
            supports_half=True,
            supports_bfloat16=True,
            tiling_safe=True,
        )

    def backbone_parameters(self) -> list[nn.Parameter]:
        """Stage 1's own layers (DMPHN's, for the dmphn backbone): its encoders and decoders without the
        CAPMs and cross-attention branches SAPHNet adds. Freezing them trains only SAPHNet's additions."""
        added = (".capm.", ".skips.")
        params = []
        for part in (self.hierarchy.encoders, self.hierarchy.decoders):
            params += [p for name, p in part.named_parameters() if not any(a in f".{name}" for a in added)]
        return params

    def to_inference_dtype(self, dtype: torch.dtype) -> SAPHNet:
        """Cast to `dtype` for inference, keeping the sampling policies in float32 (their top-K choice
        is sensitive to rounding, and they cost little)."""
        self.to(dtype)
        self.policies.float()
        return self

    def resolve_budget(self, budget: Budget) -> tuple[float, ...]:
        """One fraction per refinement stage. A single number sets the first stage's fraction and scales
        the later ones in the preset's proportions; None keeps the preset's budget."""
        default = self.config.budget
        if budget is None:
            return default
        if isinstance(budget, int | float):
            if not default:
                return ()
            scale = float(budget) / default[0] if default[0] else 0.0
            fractions = tuple(min(1.0, float(budget) if i == 0 else d * scale) for i, d in enumerate(default))
        else:
            fractions = tuple(float(b) for b in budget)
        if len(fractions) != len(default) or any(not 0.0 <= f <= 1.0 for f in fractions):
            raise ValueError(f"budget needs {len(default)} fractions in [0, 1], got {budget!r}")
        return fractions

    def forward(
        self,
        x: torch.Tensor,
        record: bool = False,
        budget: Budget = None,
        selection: Selection = "policy",
    ) -> SAPHNetOutput:
        """Restore N x 3 x H x W images in [0, 1]; any H, W (padded internally and cropped back).

        In training mode cells are sampled from the policy (or uniformly with selection="random");
        in eval mode the top-K cells are taken, so the output is deterministic.
        """
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected an N x 3 x H x W tensor, got shape {tuple(x.shape)}")
        fractions = self.resolve_budget(budget)
        h, w = x.shape[-2:]
        blurred = pad_to_multiple(x, self.config.size_multiple)
        recorder = Recorder() if record else None

        image, features = self.hierarchy(blurred, recorder)
        out = SAPHNetOutput(image=image, stages=[image])
        grid = CellGrid(blurred.shape[-2], blurred.shape[-1], self.config.cell, self.config.halo)
        n = x.shape[0]
        for s, refiner in enumerate(self.refiners):
            if self.config.sampling:
                k = math.ceil(fractions[s] * grid.count)
                # The policy's graph only when a loss will use it (training, cells refined: the dense
                # difficulty loss, and REINFORCE on policy-chosen cells): a graph no loss reaches would
                # leave DistributedDataParallel waiting for its gradients.
                learns = self.training and k > 0
                with torch.set_grad_enabled(torch.is_grad_enabled() and learns):
                    logits = self.policies[s](blurred, image, features)
                cells, log_probs = choose_cells(logits, k, sample=self.training, selection=selection)
                difficulty = torch.sigmoid(logits.detach().float())
                out.logits.append(logits)
            else:
                cells = torch.arange(grid.count, device=x.device).expand(n, -1)
                log_probs = torch.zeros(cells.shape, device=x.device)
                difficulty = torch.ones(n, 1, grid.rows, grid.cols, device=x.device)
            if cells.shape[1]:
                image, features = self._refine(refiner, blurred, image, features, cells, grid)
            out.stages.append(image)
            out.difficulty.append(difficulty)
            out.chosen.append(grid.chosen_mask(cells))
            out.cells.append(cells)
            out.log_probs.append(log_probs)

        out.stages = [stage[..., :h, :w] for stage in out.stages]
        out.image = out.stages[-1]
        if recorder is not None:
            out.attention, out.offsets = recorder.attention, recorder.offsets
        return out

    @staticmethod
    def _refine(
        refiner: PatchRefiner,
        blurred: torch.Tensor,
        image: torch.Tensor,
        features: torch.Tensor,
        cells: torch.Tensor,
        grid: CellGrid,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gather the chosen cells, refine them together, blend image and features back."""
        patches = gather_cells(torch.cat([blurred, image, features], dim=1), cells, grid)
        residual, patch_features = refiner(patches, features, group=cells.shape[1])
        refined = patches[:, 3:6] + residual
        return scatter_cells(image, refined, cells, grid), scatter_cells(
            features, patch_features, cells, grid
        )


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad bottom/right to a multiple, by reflection where the image is large enough, else by replication."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not (ph or pw):
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, [0, pw, 0, ph], mode=mode)
