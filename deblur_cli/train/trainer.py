"""The training loop: staged schedule, warm-up + cosine LR, clipping, EMA, AMP on GPU, exact resume,
validation, export. Runs unchanged on CPU and under `torchrun` (DistributedDataParallel)."""

from __future__ import annotations

import bisect
import copy
import dataclasses
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Sampler

from ..engine.allocator import keep_freed_memory
from ..model import SAPHNet, create_model
from ..weights import load_model, save_pretrained
from .datasets import FrameSequenceDataset, PairedFolderDataset, SharpFolderDataset, make_validation_set
from .feature_distil import FeatureProjections, FeatureTaps
from .losses import LossWeights, charbonnier, difficulty_loss, policy_loss, restoration_loss
from .metrics import psnr, ssim
from .shrink import shrink_state
from .synthesis import SynthesisConfig

logger = logging.getLogger(__name__)

Phase = Literal["stage1", "random", "policy"]
CompileMode = Literal["off", "default", "reduce-overhead"]
CHECKPOINT = "checkpoint.pt"
SNAPSHOTS = "snapshots"


@dataclass
class TrainConfig:
    """One training run, saved in every checkpoint so `resume` continues exactly."""

    preset: str = "saphnet-s"
    overrides: dict[str, Any] = field(default_factory=dict)
    sharp_dirs: list[str] = field(default_factory=list)
    """Folders of sharp photos, blurred on the fly."""
    sharp_exclude: list[str] = field(default_factory=list)
    """Glob patterns of photos held out of training (e.g. "val_*")."""
    frame_dirs: list[str] = field(default_factory=list)
    """Raw high-frame-rate sequences (the GoPro recipe)."""
    pair_dirs: list[str] = field(default_factory=list)
    """GoPro-layout folders (blur/ + sharp/)."""
    mix: tuple[float, float, float] = (0.5, 1.0, 1.0)
    """Relative share of samples from sharp photos, frame sequences and pairs."""
    synthesis: dict[str, Any] = field(default_factory=dict)
    """Changes to the blur synthesis of sharp photos: `SynthesisConfig` field name -> value."""
    frame_stride: tuple[int, int] = (1, 1)
    """Average every k-th raw frame, k drawn from this inclusive range (longer blur from slow scenes)."""
    frame_cache: int = 0
    """Decoded raw frames kept in memory per process (about 2.8 MB each at 1280x720); same results."""
    workers: int = 0
    """Processes preparing batches ahead of the training step (0: the step prepares its own); same results."""
    snapshot_every: int = 0
    """Export the EMA weights to snapshots/step-NNNNNN/ every this many steps (0: never); same results."""
    compile: CompileMode = "off"
    """torch.compile the network's forward and backward ("default", or "reduce-overhead" for CUDA graphs):
    fewer, fused kernels. The same recipe, but compiled kernels draw the policy's samples from their own
    random stream, so a run is exactly reproducible only under the same setting."""
    crop: int = 128
    batch_size: int = 8
    steps: int = 20000
    lr: float = 3e-4
    min_lr: float = 1e-6
    warmup: int = 200
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    stage1_steps: int = 2000
    """Schedule: stage 1 alone for this many steps..."""
    random_steps: int = 2000
    """...then later stages on uniformly random cells, then the policy switched on."""
    loss: LossWeights = field(default_factory=LossWeights)
    val_sharp_dirs: list[str] = field(default_factory=list)
    """Held-out photos for a fixed synthetic validation set."""
    val_include: list[str] = field(default_factory=list)
    val_count: int = 16
    val_crop: int = 256
    val_every: int = 500
    checkpoint_every: int = 100
    freeze_backbone: bool = False
    """Train only SAPHNet's additions (CAPMs, cross-attention, refinement stages, policies), keeping
    stage 1's own layers as initialised (e.g. DMPHN's published weights)."""
    policy_only: bool = False
    """Train only the sampling policies, every restoring layer kept as initialised: teaches a new policy
    where to look (the dense difficulty target, then REINFORCE) without moving the images it is judged on."""
    teacher: str = ""
    """Stack(4)-DMPHN weights (safetensors, the authors' keys): its output is a second target (distils)."""
    teacher_weight: float = 0.5
    """Weight of the Charbonnier loss of the last stage against the teacher's output, on the samples of
    sources it suits (GoPro recipe and pairs; not synthetic camera shake + noise, where it breaks)."""
    feature_weight: float = 0.0
    """Weight of matching a SAPHNet teacher's stage-1 features (each level's encoder bottleneck and decoder
    output, through learned 1x1 projections; `feature_distil.py`), on the samples the teacher's output
    suits. 0: outputs only."""
    backbone_lr_scale: float = 1.0
    """Stage 1's own layers learn at `lr` times this (e.g. 0.1: DMPHN's weights move gently while SAPHNet's
    additions learn at full rate)."""
    seed: int = 0
    amp: bool = True
    """Mixed precision on CUDA (bf16 where supported, else fp16 with loss scaling); never on CPU."""
    threads: int = 0
    """CPU threads for torch (0 = torch's default)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        data["loss"] = LossWeights(**data.get("loss", {}))
        data["mix"] = tuple(data.get("mix", cls.mix))
        data["frame_stride"] = tuple(data.get("frame_stride", cls.frame_stride))
        synthesis = data.get("synthesis", {})
        data["synthesis"] = {k: tuple(v) if isinstance(v, list) else v for k, v in synthesis.items()}
        return cls(**data)


_TapPair = tuple[FeatureTaps, FeatureTaps]
"""Feature taps on (student, teacher)."""


RUNTIME_SETTINGS = ("frame_cache", "workers", "snapshot_every", "compile", "threads")
"""TrainConfig fields that change speed, not the recipe: a resumed run takes them from the new command."""


def phase_at(step: int, cfg: TrainConfig) -> Phase:
    """Which part of the staged schedule a step belongs to."""
    if step < cfg.stage1_steps:
        return "stage1"
    if step < cfg.stage1_steps + cfg.random_steps:
        return "random"
    return "policy"


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to `min_lr` at `steps`."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * progress))


class IndexStream:
    """Deterministic sample order: epoch e is a seeded permutation, so step t of rank r always reads the
    same items, and resuming needs nothing but the step."""

    def __init__(self, length: int, batch_size: int, seed: int, rank: int = 0, world: int = 1) -> None:
        self.length, self.batch_size, self.seed, self.rank, self.world = length, batch_size, seed, rank, world
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.long)

    def batch(self, step: int) -> list[tuple[int, int]]:
        """(epoch, index) of every item of this rank's batch at `step`."""
        out = []
        for slot in range(self.batch_size):
            position = (step * self.world + self.rank) * self.batch_size + slot
            epoch, offset = divmod(position, self.length)
            if epoch != self._epoch:
                generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
                self._epoch, self._perm = epoch, torch.randperm(self.length, generator=generator)
            out.append((epoch, int(self._perm[offset])))
        return out


class Batch(NamedTuple):
    """Blurred and sharp images (N x 3 x H x W) and, per image, whether a teacher's output suits it."""

    blurred: torch.Tensor
    sharp: torch.Tensor
    teachable: torch.Tensor


class _EpochItems(Dataset):
    """The training mixture addressed by (epoch, index): a worker process builds exactly the item the
    training process would have built itself. Each item says whether its source suits a teacher."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.parts = list(getattr(dataset, "datasets", [dataset]))
        self.ends = list(getattr(dataset, "cumulative_sizes", [len(dataset)]))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        epoch, index = key
        _set_epoch(self.dataset, epoch)
        part = self.parts[bisect.bisect_right(self.ends, index)]
        return {**self.dataset[index], "teachable": torch.tensor(getattr(part, "teachable", True))}


class _StepBatches(Sampler[list[tuple[int, int]]]):
    """The (epoch, index) batches of steps `start` to `stop`, in order, as `IndexStream` gives them."""

    def __init__(self, stream: IndexStream, start: int, stop: int) -> None:
        self.stream, self.start, self.stop = stream, start, stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        return (self.stream.batch(step) for step in range(self.start, self.stop))


def _stack(items: list[dict[str, torch.Tensor]]) -> Batch:
    return Batch(*(torch.stack([i[key] for i in items]) for key in Batch._fields))


def build_dataset(cfg: TrainConfig, samples_per_source: int = 10_000) -> Dataset:
    """The training mixture: each source sized by its share of `mix`."""
    parts: list[Dataset] = []
    shares = dict(zip(("sharp", "frames", "pairs"), cfg.mix, strict=True))
    total = sum(s for name, s in shares.items() if _has(cfg, name)) or 1.0
    if cfg.sharp_dirs:
        parts.append(
            SharpFolderDataset(
                cfg.sharp_dirs,
                crop=cfg.crop,
                config=SynthesisConfig(**cfg.synthesis),
                seed=cfg.seed,
                exclude=cfg.sharp_exclude,
                length=int(samples_per_source * shares["sharp"] / total) or 1,
            )
        )
    if cfg.frame_dirs:
        parts.append(
            FrameSequenceDataset(
                cfg.frame_dirs,
                crop=cfg.crop,
                stride=cfg.frame_stride,
                cache_frames=cfg.frame_cache,
                seed=cfg.seed + 1,
                length=int(samples_per_source * shares["frames"] / total) or 1,
            )
        )
    for root in cfg.pair_dirs:
        parts.append(PairedFolderDataset.from_root(root, crop=cfg.crop, seed=cfg.seed + 2))
    if not parts:
        raise ValueError("no training data: give sharp photo folders, frame sequences or paired folders")
    return ConcatDataset(parts)


def _has(cfg: TrainConfig, source: str) -> bool:
    return bool({"sharp": cfg.sharp_dirs, "frames": cfg.frame_dirs, "pairs": cfg.pair_dirs}[source])


def _set_epoch(dataset: Dataset, epoch: int) -> None:
    for part in getattr(dataset, "datasets", [dataset]):
        if hasattr(part, "set_epoch"):
            part.set_epoch(epoch)


@dataclass
class ValidationResult:
    psnr: float
    ssim: float
    input_psnr: float


def validate(
    model: SAPHNet,
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    device: torch.device,
    budget: float | Sequence[float] | None = None,
) -> ValidationResult:
    """Mean PSNR/SSIM of the model (and of the blurred inputs) on (blurred, sharp) H x W x 3 float pairs."""
    model.eval()
    scores, ssims, inputs = [], [], []
    with torch.inference_mode():
        for blurred, sharp in pairs:
            x = torch.from_numpy(np.ascontiguousarray(blurred)).permute(2, 0, 1)[None].to(device)
            restored = model(x, budget=budget).image.clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy()
            scores.append(psnr(restored, sharp))
            ssims.append(ssim(restored, sharp))
            inputs.append(psnr(blurred, sharp))
    return ValidationResult(float(np.mean(scores)), float(np.mean(ssims)), float(np.mean(inputs)))


class Trainer:
    """Owns the model, its EMA, the optimiser and the data order; `run()` trains to `cfg.steps`."""

    def __init__(
        self,
        cfg: TrainConfig,
        out_dir: str | Path,
        *,
        device: str | torch.device | None = None,
        on_log: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.cfg, self.out_dir, self.on_log = cfg, Path(out_dir), on_log
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        if device is None:
            local = int(os.environ.get("LOCAL_RANK", "0"))
            device = f"cuda:{local}" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if self.device.type == "cuda":
            if self.device.index is None:  # a bare "cuda" means the current GPU; set_device needs an index
                self.device = torch.device("cuda", torch.cuda.current_device())
            torch.cuda.set_device(self.device)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        _seed_everything(cfg.seed + self.rank)

        # channels_last, as the engine runs: oneDNN and cuDNN convolve NHWC without layout reorders. With
        # fused AdamW and the multi-tensor EMA, steps ran 9-16% faster on 2 CPU cores (docs/performance.md).
        nhwc = self.device.type in ("cpu", "cuda")
        self.memory_format = torch.channels_last if nhwc else torch.preserve_format
        if self.device.type == "cpu":
            keep_freed_memory()
        self.model = create_model(cfg.preset, **cfg.overrides)
        self.model.to(self.device, memory_format=self.memory_format)
        self.ema = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.net: torch.nn.Module = self.model
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids, find_unused_parameters=True)
        self.eager_net = self.net
        """The network uncompiled: what a run falls back to if compiling fails."""
        self._compiled_once = False
        if cfg.compile != "off":
            self.net = torch.compile(self.net, mode=cfg.compile)
        if cfg.freeze_backbone:
            for p in self.model.backbone_parameters():
                p.requires_grad_(False)
        if cfg.policy_only:
            self.model.requires_grad_(False)
            self.model.policies.requires_grad_(True)
        self.teacher = load_teacher(cfg.teacher, self.device) if cfg.teacher else None
        self.projections, self.taps = self._feature_distillation()
        backbone = {id(p) for p in self.model.backbone_parameters()}
        groups = [
            {"params": [p for p in self.model.parameters() if p.requires_grad and (id(p) in backbone) == b],
             "lr_scale": scale}
            for b, scale in ((False, 1.0), (True, cfg.backbone_lr_scale))
        ]
        if self.projections is not None:
            groups.append({"params": list(self.projections.parameters()), "lr_scale": 1.0})
        self.optimizer = torch.optim.AdamW(  # fused: one kernel for all 400 tensors (4x faster on the CPU)
            [g for g in groups if g["params"]],
            lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99),
            fused=self.device.type in ("cpu", "cuda"),
        )
        self.amp_dtype = None
        if cfg.amp and self.device.type == "cuda":
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.dataset = build_dataset(cfg)
        self.stream = IndexStream(len(self.dataset), cfg.batch_size, cfg.seed, self.rank, self.world)
        self.step = 0
        self.best_psnr = -math.inf
        self.val_pairs: list[tuple[np.ndarray, np.ndarray]] = []
        if cfg.val_sharp_dirs and self.rank == 0:
            self.val_pairs = make_validation_set(
                cfg.val_sharp_dirs, count=cfg.val_count, crop=cfg.val_crop, include=cfg.val_include or None
            )

    # -- checkpoints -------------------------------------------------------------------------------
    def save_checkpoint(self) -> Path:
        """Everything needed to continue bit for bit: weights, EMA, optimiser, scaler, step, RNG states."""
        state = {
            "config": self.cfg.to_dict(),
            "step": self.step,
            "best_psnr": self.best_psnr,
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": _rng_state(),
        }
        if self.projections is not None:
            state["projections"] = self.projections.state_dict()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / CHECKPOINT
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)
        return path

    def init_weights(self, path: str | Path) -> str:
        """Start a new run from other weights, not their optimiser, step or data order (e.g. to fine-tune
        with a new schedule): another run's checkpoint.pt (its model and EMA), or published weights (a
        .safetensors file or a folder holding model.safetensors, loaded as both model and EMA). A weights
        folder of a wider DMPHN-backbone network (saphnet-b for saphnet-s) is cut down to this run's
        network by `shrink.shrink_state`. Sampling policies of another shape (another `policy_input`) are
        left as this run's fresh ones, for it to train. Returns how the weights were taken ("loaded",
        "shrunk" or "loaded, new policies").

        Raises ValueError when the weights do not fit this run's preset."""
        path = Path(path)
        how = "loaded"
        own = self.model.state_dict()
        if path.suffix == ".pt":
            state = torch.load(path, map_location=self.device, weights_only=False)
            model_state, ema_state = state["model"], state["ema"]
        else:
            net, _ = load_model(path, preset=self.cfg.preset)
            model_state = net.state_dict()
            if _shapes(model_state) != _shapes(own) and _both_dmphn(net, self.model):
                model_state, how = shrink_state(net, self.model), "shrunk"
            ema_state = model_state
        if _shapes(own, policies=True) != _shapes(model_state, policies=True):
            fresh = {k: v for k, v in own.items() if k.startswith("policies.")}
            model_state = {**{k: v for k, v in model_state.items() if not k.startswith("policies.")}, **fresh}
            ema_state = {**{k: v for k, v in ema_state.items() if not k.startswith("policies.")}, **fresh}
            how = "loaded, new policies"
        try:
            self.model.load_state_dict(model_state)
            self.ema.load_state_dict(ema_state)
        except RuntimeError as exc:
            first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
            raise ValueError(f"{path} does not fit preset {self.cfg.preset}: {first}") from None
        return how

    def load_checkpoint(self, source: str | Path | dict[str, Any]) -> None:
        """Continue from a checkpoint written by `save_checkpoint` (our own file: full unpickling), given
        as its path or as the dict already read from it (the CLI reads it once for its config)."""
        state = source if isinstance(source, dict) else torch.load(source, map_location=self.device,
                                                                    weights_only=False)
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        if self.projections is not None:
            self.projections.load_state_dict(state["projections"])
        self.step = int(state["step"])
        self.best_psnr = float(state.get("best_psnr", -math.inf))
        _set_rng_state(state["rng"])

    # -- one step ------------------------------------------------------------------------------------
    def _own_batch(self, step: int) -> Batch:
        items = _EpochItems(self.dataset)
        return _stack([items[key] for key in self.stream.batch(step)])

    def _batches(self, stop: int) -> Iterator[Batch]:
        """The batches of steps `self.step` to `stop`: built here, or ahead by `cfg.workers` processes."""
        if self.cfg.workers <= 0:
            for step in range(self.step, stop):
                yield self._own_batch(step)
            return
        yield from DataLoader(
            _EpochItems(self.dataset),
            batch_sampler=_StepBatches(self.stream, self.step, stop),
            num_workers=self.cfg.workers,
            collate_fn=_stack,
            pin_memory=self.device.type == "cuda",
            generator=torch.Generator(),  # its seed draw must not move the policy's random stream
        )

    def train_step(self, batch: Batch | None = None) -> dict[str, Any]:
        """One optimisation step on `batch` (default: this step's own); returns the logged figures."""
        cfg = self.cfg
        phase = phase_at(self.step, cfg)
        lr = lr_at(self.step, cfg)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        blurred, sharp, teachable = self._own_batch(self.step) if batch is None else batch
        blurred = blurred.to(self.device, memory_format=self.memory_format, non_blocking=True)
        sharp = sharp.to(self.device, memory_format=self.memory_format, non_blocking=True)
        self.net.train()
        stages = self.model.config.refinement_stages
        budget = tuple(0.0 for _ in range(stages)) if phase == "stage1" else None
        selection = "random" if phase == "random" else "policy"
        if self.net is not self.eager_net:  # CUDA graphs (reduce-overhead) may reuse last step's outputs now
            torch.compiler.cudagraph_mark_step_begin()
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            out = self.net(blurred, budget=budget, selection=selection)
        student_features = self.taps[0].take() if self.taps is not None else {}
        cell = self.model.config.cell
        out.stages = [s.float() for s in out.stages]
        loss, terms = restoration_loss(out, sharp, cfg.loss, cell, stages=1 if phase == "stage1" else None)
        stats: dict[str, float] = {}
        taught = teachable.to(self.device).nonzero().flatten()
        if self.teacher is not None and len(taught):
            with torch.no_grad():  # only on the images it suits: the teacher costs 4 DMPHN passes each
                target = self.teacher(blurred[taught]).float()
            distil = charbonnier(out.stages[-1][taught], target)
            loss = loss + cfg.teacher_weight * distil * len(taught) / len(blurred)
            stats["distil"] = float(distil.detach())
            if self.projections is not None:
                features = self.projections(student_features, self.taps[1].take(), taught)
                loss = loss + cfg.feature_weight * features * len(taught) / len(blurred)
                stats["features"] = float(features.detach())
        if phase != "stage1":
            dense = difficulty_loss(out, sharp, cell, cfg.loss.difficulty_floor)
            loss = loss + cfg.loss.difficulty * dense
            stats["difficulty"] = float(dense.detach())
        if phase == "policy":
            pg, pg_stats = policy_loss(out, sharp, cfg.loss, cell)
            loss = loss + pg
            stats.update(pg_stats)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        # Clipped apart: the policy's normalised-advantage gradients must not shrink the restoration's.
        policy = {id(p) for p in self.model.policies.parameters()}
        projected = list(self.projections.parameters()) if self.projections is not None else []
        grad_norm = torch.nn.utils.clip_grad_norm_(
            [p for p in self.model.parameters() if id(p) not in policy] + projected, cfg.grad_clip
        )
        torch.nn.utils.clip_grad_norm_(self.model.policies.parameters(), cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self._update_ema()
        self.step += 1
        with torch.no_grad():
            train_psnr = -10 * math.log10(
                max(
                    float((out.stages[-1 if phase != "stage1" else 0].clamp(0, 1) - sharp).square().mean()),
                    1e-10,
                )
            )
        return {
            "step": self.step,
            "phase": phase,
            "lr": lr,
            "loss": float(loss.detach()),
            "stages": terms,
            "psnr": train_psnr,
            "grad_norm": float(grad_norm),
            **stats,
        }

    def _train_step_compiling(self, batch: Batch) -> dict[str, Any]:
        """`train_step`, except that if the first compiled step fails, the run goes on uncompiled: an
        unattended GPU call keeps its minutes. Compiling happens then, before the optimiser moves."""
        if self.net is self.eager_net or self._compiled_once:
            return self.train_step(batch)
        try:
            record = self.train_step(batch)
        except Exception as exc:  # dynamo, inductor and the kernels they generate share no base class
            first = (str(exc).strip().splitlines() or [""])[0]
            logger.warning("torch.compile failed, training uncompiled: %s: %s", type(exc).__name__, first)
            self.net = self.eager_net
            return self.train_step(batch)
        self._compiled_once = True
        return record

    def _feature_distillation(self) -> tuple[FeatureProjections | None, _TapPair | None]:
        """With `feature_weight`: the projections and the taps on (student, teacher); else nothing.

        Raises ValueError without a SAPHNet teacher of the student's hierarchy, or across processes (each
        would train its own projections)."""
        if not self.cfg.feature_weight:
            return None, None
        if not isinstance(self.teacher, _ImageOf):
            raise ValueError("--feature-weight needs a SAPHNet weights folder as --teacher")
        if self.world > 1:
            raise ValueError("--feature-weight runs in one process only")
        teacher = self.teacher.net
        projections = FeatureProjections(self.model.config, teacher.config)
        projections.to(self.device, memory_format=self.memory_format)
        return projections, (FeatureTaps(self.model.hierarchy), FeatureTaps(teacher.hierarchy))

    def _update_ema(self) -> None:
        decay = min(self.cfg.ema_decay, (1 + self.step) / (10 + self.step))
        # A few multi-tensor kernels, not one or two per tensor (as timm's ModelEmaV3 does it).
        with torch.no_grad():
            torch._foreach_lerp_(list(self.ema.parameters()), list(self.model.parameters()), 1 - decay)
            buffers = list(self.ema.buffers())
            if buffers:
                torch._foreach_copy_(buffers, list(self.model.buffers()))

    # -- the loop --------------------------------------------------------------------------------------
    def run(self, *, until: int | None = None, time_limit: float | None = None) -> None:
        """Train to `until` (default cfg.steps) or for `time_limit` seconds, checkpointing on the way and at
        the end (also on Ctrl-C)."""
        until = self.cfg.steps if until is None else min(until, self.cfg.steps)
        start, seen = time.perf_counter(), 0
        batches = self._batches(until)
        try:
            for batch in batches:
                record = self._train_step_compiling(batch)
                seen += 1
                record["seconds"] = time.perf_counter() - start  # since this run (or resumption) began
                record["it_s"] = seen / record["seconds"]
                main = self.rank == 0
                if main and self.step % self.cfg.checkpoint_every == 0:
                    self.save_checkpoint()
                if main and self.cfg.snapshot_every and self.step % self.cfg.snapshot_every == 0:
                    self.export(self.out_dir / SNAPSHOTS / f"step-{self.step:06d}")
                if main and self.val_pairs and self.step % self.cfg.val_every == 0:
                    result = validate(self.ema, self.val_pairs, self.device)
                    record.update(
                        val_psnr=result.psnr, val_ssim=result.ssim, val_input_psnr=result.input_psnr
                    )
                    if result.psnr > self.best_psnr:
                        self.best_psnr = result.psnr
                        self.export(self.out_dir / "best")
                if main and self.on_log is not None:
                    self.on_log(record)
                if time_limit is not None and time.perf_counter() - start > time_limit:
                    break
        finally:
            batches.close()  # stops any worker processes
            if self.rank == 0:
                self.save_checkpoint()

    def export(self, folder: str | Path, card: str | None = None) -> str:
        """Write the EMA weights as config.json + model.safetensors; returns the file's sha256."""
        return save_pretrained(
            self.ema, folder, preset=self.cfg.preset if not self.cfg.overrides else None, card=card
        )


def load_teacher(path: str | Path, device: torch.device) -> nn.Module:
    """A frozen image -> image module in eval mode: a published network (Stack(k)-DMPHN or DMPHN 1-2-4,
    the authors' keys, one .safetensors file) or a SAPHNet weights folder (config.json + model.safetensors,
    stage 1 only: saphnet-b's refinement stages move its held-out PSNR by 0.002 dB for a third of its
    cost)."""
    from ..errors import WeightsError
    from ..weights.dmphn_import import load_published

    path = Path(path)
    try:
        if path.is_dir():
            net, _ = load_model(path)
            teacher: nn.Module = _ImageOf(net)
        else:
            teacher = load_published(path).net
    except WeightsError as exc:
        raise ValueError(f"not a SAPHNet weights folder or Stack(k)-DMPHN / DMPHN weights: {exc}") from None
    return teacher.to(device).eval().requires_grad_(False)


def _shapes(state: dict[str, torch.Tensor], *, policies: bool = False) -> dict[str, tuple[int, ...]]:
    """The shapes of the restoring layers' tensors, or with `policies` of the sampling policies' (which
    `init_weights` may leave fresh)."""
    return {k: tuple(v.shape) for k, v in state.items() if k.startswith("policies.") == policies}


def _both_dmphn(a: SAPHNet, b: SAPHNet) -> bool:
    return a.config.backbone == b.config.backbone == "dmphn"


class _ImageOf(nn.Module):
    """A SAPHNet seen as image -> image: its first stage's output."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, budget=0.0).image


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
