"""SAPHNet: a dense patch-hierarchical first stage, then stages that refine only the hardest cells."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import torch
from torch import nn

from .cells import CellGrid, gather_cells, scatter_cells
from .config import SAPHNetConfig
from .descriptor import Budget, ModelDescriptor, ModelOutput, pad_to_multiple
from .memory import network_bytes_per_pixel
from .patch_hierarchy import PatchHierarchy
from .recorder import Recorder
from .refiner import PatchRefiner
from .sampling_policy import SamplingPolicy, Selection, choose_cells


@dataclass(kw_only=True)
class SAPHNetOutput(ModelOutput):
    """What one forward pass produced: the engine's `ModelOutput` (`difficulty` is the policy's P_s, ones
    when sampling is off; maps are recorded with record=True) and what training reads. Maps are on the cell
    grid of the input padded (bottom/right) to the size multiple; cell (i, j) covers pixels
    [i c, (i + 1) c) x [j c, (j + 1) c) of the input."""

    stages: list[torch.Tensor]
    """Every stage's image, first to last (`image` is the last)."""
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
                SamplingPolicy(cfg.width, cfg.cell, cfg.policy_width, cfg.policy_input)
                for _ in range(cfg.refinement_stages)
            )
            if cfg.sampling
            else nn.ModuleList()
        )
        for name, module in self.named_modules():
            if hasattr(module, "name") and isinstance(module.name, str):
                module.name = name

    @property
    def descriptor(self) -> ModelDescriptor:
        """How the engine runs it: padded to the size multiple, in any precision (the policies stay in
        float32), on blended tiles (global attention sees one tile), sized by `network_bytes_per_pixel`."""
        cfg = self.config
        return ModelDescriptor(
            size_multiple=cfg.size_multiple,
            min_size=1,
            supports_half=True,
            supports_bfloat16=True,
            tiling_safe=True,
            cell=cfg.cell,
            default_budget=cfg.budget,
            bytes_per_pixel=partial(network_bytes_per_pixel, cfg),
            run=SAPHNet.run,
            to_dtype=SAPHNet.to_inference_dtype,
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
        """One fraction per refinement stage, from the preset's budget (`ModelDescriptor.resolve_budget`)."""
        return self.descriptor.resolve_budget(budget)

    def forward(
        self,
        x: torch.Tensor,
        record: bool = False,
        budget: Budget = None,
        selection: Selection = "policy",
    ) -> SAPHNetOutput:
        """Restore N x 3 x H x W images in [0, 1] of any H, W: padded to the size multiple, `run`, and the
        images cropped back (maps stay on the padded grid).

        In training mode cells are sampled from the policy (or uniformly with selection="random");
        in eval mode the top-K cells are taken, so the output is deterministic.
        """
        _check_batch(x)
        h, w = x.shape[-2:]
        out = self.run(pad_to_multiple(x, self.config.size_multiple), self.resolve_budget(budget), record,
                       selection)
        out.stages = [stage[..., :h, :w] for stage in out.stages]
        out.image = out.stages[-1]
        return out

    def run(
        self,
        x: torch.Tensor,
        fractions: tuple[float, ...],
        record: bool = False,
        selection: Selection = "policy",
    ) -> SAPHNetOutput:
        """`forward` on a batch already padded to the size multiple, with the budget already resolved: the
        engine's entry (its descriptor's `run`), which pads each tile and resolves the budget once."""
        _check_batch(x, self.config.size_multiple)
        recorder = Recorder() if record else None

        image, features = self.hierarchy(x, recorder)
        out = SAPHNetOutput(image=image, stages=[image])
        grid = CellGrid(x.shape[-2], x.shape[-1], self.config.cell, self.config.halo)
        n = x.shape[0]
        for s, refiner in enumerate(self.refiners):
            if self.config.sampling:
                k = math.ceil(fractions[s] * grid.count)
                # The policy's graph only when a loss will use it (training, cells refined: the dense
                # difficulty loss, and REINFORCE on policy-chosen cells): a graph no loss reaches would
                # leave DistributedDataParallel waiting for its gradients.
                learns = self.training and k > 0
                with torch.set_grad_enabled(torch.is_grad_enabled() and learns):
                    logits = self.policies[s](x, image, features)
                cells, log_probs = choose_cells(logits, k, sample=self.training, selection=selection)
                difficulty = torch.sigmoid(logits.detach().float())
                out.logits.append(logits)
            else:
                cells = torch.arange(grid.count, device=x.device).expand(n, -1)
                log_probs = torch.zeros(cells.shape, device=x.device)
                difficulty = torch.ones(n, 1, grid.rows, grid.cols, device=x.device)
            if cells.shape[1]:
                later = s < len(self.refiners) - 1  # only a later stage reads the blended features
                image, features = self._refine(refiner, x, image, features, cells, grid, blend_features=later)
            out.stages.append(image)
            out.difficulty.append(difficulty)
            out.chosen.append(grid.chosen_mask(cells))
            out.cells.append(cells)
            out.log_probs.append(log_probs)

        out.image = image
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
        *,
        blend_features: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gather the chosen cells, refine them together, blend the image back, and the features too
        unless no later stage reads them (`blend_features` False: the features come back unchanged)."""
        patches = gather_cells(torch.cat([blurred, image, features], dim=1), cells, grid)
        residual, patch_features = refiner(patches, features, group=cells.shape[1])
        refined = patches[:, 3:6] + residual
        if blend_features:
            features = scatter_cells(features, patch_features, cells, grid)
        return scatter_cells(image, refined, cells, grid), features


def _check_batch(x: torch.Tensor, multiple: int = 1) -> None:
    """ValueError unless `x` is N x 3 x H x W with sides that are multiples of `multiple`."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected an N x 3 x H x W tensor, got shape {tuple(x.shape)}")
    if x.shape[-2] % multiple or x.shape[-1] % multiple:
        raise ValueError(f"sides of {tuple(x.shape[-2:])} are not multiples of {multiple}; pad them first")
