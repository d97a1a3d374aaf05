"""`deblur train` and `deblur eval`: parse, call the trainer or the evaluator, print."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import torch
import typer

from ..batch import EngineOptions
from ..errors import DeblurError
from ..model import DEFAULT_PRESET
from .console import Terminal
from .options import (
    BudgetOption,
    DeviceOption,
    EnsembleOption,
    ModelOption,
    PrecisionOption,
    ThreadsOption,
    TileOption,
    TileOverlapOption,
    WeightsOption,
    load_engine,
)


def _parse_mix(text: str) -> tuple[float, float, float]:
    """`--mix 1,2,2` as three non-negative shares, at least one above zero."""
    try:
        shares = tuple(float(part) for part in text.split(","))
    except ValueError:
        shares = ()
    if len(shares) != 3 or min(shares) < 0 or max(shares) <= 0:
        raise typer.BadParameter(
            f"expected three non-negative shares like 1,2,2, got {text!r}", param_hint="--mix"
        )
    return shares  # type: ignore[return-value]


def _parse_fields(
    items: list[str], parse: Callable[[str], tuple[str, object]], check: Callable[..., object], option: str
) -> dict[str, object]:
    """Repeatable `FIELD=VALUE` options as a dict, each parsed by `parse` and all checked together by calling
    `check(**changes)`; a bad one is the option's usage error."""
    try:
        changes = dict(parse(item) for item in items)
        check(**changes)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
    return changes


def _parse_synth(items: list[str]) -> dict[str, object]:
    """`--synth blur_length=0.01,0.3` (repeatable) as SynthesisConfig overrides, checked together."""
    from ..train.synthesis import SynthesisConfig

    return _parse_fields(items, SynthesisConfig.parse_override, SynthesisConfig, "--synth")


def _parse_arch(preset: str, items: list[str]) -> dict[str, object]:
    """`--arch blocks=1` (repeatable) as changes to the preset's config, checked together on the preset
    (an unknown preset is the trainer's error to report)."""
    from ..model.config import SAPHNetConfig
    from ..model.presets import PRESETS, get_config

    def check(**changes: object) -> object:
        return get_config(preset, **changes) if preset in PRESETS else None

    return _parse_fields(items, SAPHNetConfig.parse_override, check, "--arch")


def _parse_stride(text: str) -> tuple[int, int]:
    """`--frame-stride 1,3` (or `2`) as an inclusive range of whole frames, at least 1."""
    try:
        parts = tuple(int(part) for part in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not 1 <= parts[0] <= parts[1]:
        raise typer.BadParameter(
            f"expected K or LO,HI with 1 <= LO <= HI, got {text!r}", param_hint="--frame-stride"
        )
    return parts  # type: ignore[return-value]


def train(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Run folder: checkpoint, log, best export, snapshots.")
    ],
    preset: Annotated[str, typer.Option("--preset", help="Network preset to train.")] = "saphnet-s",
    arch: Annotated[
        list[str] | None,
        typer.Option(
            metavar="FIELD=VALUE",
            help="Change the preset's network, e.g. blocks=1 or capm_scales= (repeatable; fields of "
            "deblur_cli.model.SAPHNetConfig). The exported config.json records the result.",
        ),
    ] = None,
    sharp: Annotated[
        list[Path] | None,
        typer.Option(
            "--sharp", exists=True, file_okay=False, help="Folder of sharp photos, blurred on the fly."
        ),
    ] = None,
    sharp_exclude: Annotated[
        list[str] | None, typer.Option(help="Glob of photos held out of training.")
    ] = None,
    frames: Annotated[
        list[Path] | None,
        typer.Option(
            "--frames", exists=True, file_okay=False, help="Raw high-frame-rate frames (GoPro recipe)."
        ),
    ] = None,
    pairs: Annotated[
        list[Path] | None,
        typer.Option("--pairs", exists=True, file_okay=False, help="GoPro-layout folder (blur/ + sharp/)."),
    ] = None,
    mix: Annotated[
        str,
        typer.Option(
            metavar="SHARP,FRAMES,PAIRS",
            help="Relative share of training samples from sharp photos, frame sequences and pairs.",
        ),
    ] = "0.5,1,1",
    synth: Annotated[
        list[str] | None,
        typer.Option(
            metavar="FIELD=VALUE",
            help="Change the blur synthesis, e.g. blur_length=0.01,0.3 (repeatable; fields of "
            "deblur_cli.train.synthesis.SynthesisConfig).",
        ),
    ] = None,
    frame_stride: Annotated[
        str,
        typer.Option(metavar="LO,HI", help="Average every k-th raw frame, k drawn from LO..HI: longer blur."),
    ] = "1,1",
    pixel_loss: Annotated[
        Literal["charbonnier", "rmse"],
        typer.Option(
            help="Restoration loss per stage: charbonnier (L1-like, commits to sharp edges) or rmse "
            "(RMS error per image: like PSNR, it favours a soft edge where the edge's place is uncertain).",
        ),
    ] = "charbonnier",
    frame_cache: Annotated[
        int, typer.Option(min=0, help="Decoded raw frames kept in memory (~2.8 MB each at 720p).")
    ] = 0,
    workers: Annotated[
        int, typer.Option(min=0, help="Processes preparing batches ahead of each step (0 = none).")
    ] = 0,
    snapshot_every: Annotated[
        int,
        typer.Option(
            min=0, help="Every this many steps, also export the EMA weights to OUT/snapshots/ (0 = never)."
        ),
    ] = 0,
    compile_mode: Annotated[
        Literal["off", "default", "reduce-overhead"],
        typer.Option(
            "--compile",
            help="torch.compile the network: fewer, fused kernels (reduce-overhead: also CUDA graphs). For "
            "GPU runs; compiling takes minutes, and on the CPU it measured no faster.",
        ),
    ] = "off",
    val_sharp: Annotated[
        list[Path] | None,
        typer.Option(
            "--val-sharp",
            exists=True,
            file_okay=False,
            help="Held-out photos for a synthetic validation set.",
        ),
    ] = None,
    val_include: Annotated[list[str] | None, typer.Option(help="Glob picking the validation photos.")] = None,
    val_count: Annotated[int, typer.Option(min=1, help="Pairs in the synthetic validation set.")] = 16,
    val_crop: Annotated[int, typer.Option(min=16, help="Side of each validation crop.")] = 256,
    steps: Annotated[int, typer.Option(min=1)] = 20000,
    crop: Annotated[int, typer.Option(min=16)] = 128,
    batch_size: Annotated[int, typer.Option(min=1)] = 8,
    lr: float = 3e-4,
    warmup: int = 200,
    stage1_steps: int = 2000,
    random_steps: int = 2000,
    ema_decay: float = 0.999,
    freeze_backbone: Annotated[
        bool, typer.Option(help="Train only SAPHNet's additions; stage 1's own layers (e.g. DMPHN's) stay.")
    ] = False,
    policy_only: Annotated[
        bool,
        typer.Option(help="Train only the sampling policies; every restoring layer stays as initialised."),
    ] = False,
    teacher: Annotated[
        Path | None,
        typer.Option(exists=True,
                     help="Stack(4)-DMPHN safetensors (the authors' keys) or a SAPHNet weights folder "
                          "(e.g. weights/saphnet-b, distilling saphnet-s): its output is a second target."),
    ] = None,
    teacher_weight: Annotated[float, typer.Option(min=0.0, help="Weight of the teacher's target.")] = 0.5,
    feature_weight: Annotated[float, typer.Option(
        min=0.0, help="Weight of matching a SAPHNet --teacher's stage-1 features through 1x1 projections "
                      "(a narrower student of the same hierarchy); 0: outputs only.")] = 0.0,
    backbone_lr_scale: Annotated[
        float,
        typer.Option(min=0.0, help="Stage 1's own layers learn at --lr times this (0.1: they move gently)."),
    ] = 1.0,
    val_every: int = 500,
    checkpoint_every: int = 100,
    seed: int = 0,
    threads: Annotated[int, typer.Option(help="CPU threads for torch (0 = default).")] = 0,
    time_limit: Annotated[
        float | None, typer.Option(help="Stop (with a checkpoint) after this many seconds.")
    ] = None,
    until: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Stop (with a checkpoint, and the export) after this step; the schedule still runs to "
            "--steps, so resuming goes on from there.",
        ),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoint.pt if it exists.")] = True,
    init: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            help="Start from other weights: a run's checkpoint.pt, a .safetensors file or a weights folder "
            "(e.g. weights/saphnet-s); not their optimiser or schedule.",
        ),
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option(help="At the end, write the EMA weights here (config.json + model.safetensors)."),
    ] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda[:N]; default: CUDA if present.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Train SAPHNet (runs unchanged under `torchrun` for several GPUs). Resumes exactly from OUT."""
    from ..train.losses import LossWeights
    from ..train.trainer import CHECKPOINT, RUNTIME_SETTINGS, TrainConfig, Trainer

    term = Terminal(quiet=quiet)
    cfg = TrainConfig(
        mix=_parse_mix(mix),
        synthesis=_parse_synth(synth or []),
        frame_stride=_parse_stride(frame_stride),
        loss=LossWeights(pixel=pixel_loss),
        frame_cache=frame_cache,
        workers=workers,
        snapshot_every=snapshot_every,
        compile=compile_mode,
        preset=preset,
        overrides=_parse_arch(preset, arch or []),
        sharp_dirs=[str(p) for p in sharp or []],
        sharp_exclude=list(sharp_exclude or []),
        frame_dirs=[str(p) for p in frames or []],
        pair_dirs=[str(p) for p in pairs or []],
        val_sharp_dirs=[str(p) for p in val_sharp or []],
        val_include=list(val_include or []),
        val_count=val_count,
        val_crop=val_crop,
        steps=steps,
        crop=crop,
        batch_size=batch_size,
        lr=lr,
        warmup=warmup,
        stage1_steps=stage1_steps,
        random_steps=random_steps,
        ema_decay=ema_decay,
        freeze_backbone=freeze_backbone,
        policy_only=policy_only,
        teacher=str(teacher) if teacher else "",
        teacher_weight=teacher_weight,
        feature_weight=feature_weight,
        backbone_lr_scale=backbone_lr_scale,
        val_every=val_every,
        checkpoint_every=checkpoint_every,
        seed=seed,
        threads=threads,
    )
    checkpoint = out / CHECKPOINT
    log_path = out / "log.jsonl"

    def on_log(record: dict) -> None:
        with log_path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        line = (
            f"step {record['step']}/{cfg.steps} {record['phase']} loss {record['loss']:.4f} "
            f"psnr {record['psnr']:.2f} {record['it_s']:.2f} it/s"
        )
        if "val_psnr" in record:
            line += f" | val {record['val_psnr']:.2f} dB (input {record['val_input_psnr']:.2f})"
        term.say(line)

    state = None
    try:
        if resume and checkpoint.exists():
            state = torch.load(checkpoint, map_location="cpu", weights_only=False)
            runtime = {name: getattr(cfg, name) for name in RUNTIME_SETTINGS}
            saved = dataclasses.replace(TrainConfig.from_dict(state["config"]), **runtime)
            ignored = [name for name, value in cfg.to_dict().items() if saved.to_dict()[name] != value]
            if ignored:
                term.warn(f"resuming {out} with its saved settings; changes to {', '.join(ignored)} ignored "
                          "(start a new run with --init to change them)")
            cfg = saved
        out.mkdir(parents=True, exist_ok=True)
        trainer = Trainer(cfg, out, device=device, on_log=on_log)
        if state is not None:
            trainer.load_checkpoint(state)
            term.say(f"resumed {out} at step {trainer.step}")
        elif init is not None:
            how = trainer.init_weights(init)
            cut = {"shrunk": " (cut down to this preset's widths)",
                   "loaded, new policies": " (with new sampling policies)"}.get(how, "")
            term.say(f"started from the weights of {init}{cut}")
        with term.logging():
            trainer.run(until=until, time_limit=time_limit)
        if export is not None:
            digest = trainer.export(export)
            term.say(f"exported EMA weights to {export} (sha256 {digest})")
    except (DeblurError, ValueError) as exc:
        term.error(str(exc))
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        term.error("interrupted; the checkpoint holds the last finished step")
        raise typer.Exit(130) from None


def evaluate(
    blur_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Blurred images.")],
    sharp_dir: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="Sharp references, same names.")
    ],
    model: ModelOption = DEFAULT_PRESET,
    weights: WeightsOption = None,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    tile: TileOption = "auto",
    tile_overlap: TileOverlapOption = 32,
    budget: BudgetOption = None,
    ensemble: EnsembleOption = 1,
    threads: ThreadsOption = None,
    against: Annotated[
        list[Path] | None,
        typer.Option(
            exists=True,
            help="Also score a published network through the same engine, side by side: DMPHN 1-2-4 or "
            "Stack(k)-DMPHN weights (safetensors of the authors' keys, or DMPHN's folder of .pkl files). "
            "Repeatable.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """PSNR/SSIM of every restored image and the mean, against the blurred input's, on full frames."""
    from ..train.evaluate import evaluate as run_eval
    from ..weights.dmphn_import import load_published

    term = Terminal(quiet=quiet or as_json)
    options = EngineOptions(model, weights, device, precision, tile, tile_overlap, budget, threads, ensemble)

    def on_pair(score, done: int, total: int) -> None:
        term.say(
            f"[{done}/{total}] {score.name}: {score.psnr:.2f} dB / SSIM {score.ssim:.4f} "
            f"(input {score.input_psnr:.2f} dB / {score.input_ssim:.4f}) {score.seconds:.1f}s"
        )

    try:
        with term.logging():
            deblurrer = load_engine(options, term, "the scores are the untrained network's")
            if deblurrer is None:
                raise typer.Exit(1)
            published = [load_published(path) for path in against or []]
            reports = {options.weights or model: run_eval(deblurrer, blur_dir, sharp_dir, on_pair=on_pair)}
            for path, network in zip(against or [], published, strict=True):
                term.say(f"{network.name} ({path}):")
                reports[network.name] = run_eval(options.load(network), blur_dir, sharp_dir, on_pair=on_pair)
    except DeblurError as exc:
        term.error(str(exc))
        raise typer.Exit(1) from None
    first = next(iter(reports.values()))
    if as_json:
        data = first.to_dict()
        data["settings"] = {"model": options.weights or model, "device": str(deblurrer.device),
                            "precision": deblurrer.precision, "tile": deblurrer.tile,
                            "budget": deblurrer.budget, "ensemble": deblurrer.ensemble}
        if published:
            data["against"] = {name: report.to_dict() for name, report in list(reports.items())[1:]}
        typer.echo(json.dumps(data, indent=2))
        return
    for name, report in reports.items():
        mean = report.to_dict()["mean"]
        term.say(
            f"{name}: mean over {len(report.pairs)}: {mean['psnr']:.2f} dB / SSIM {mean['ssim']:.4f} "
            f"(input {mean['input_psnr']:.2f} dB / {mean['input_ssim']:.4f}), "
            f"{mean['seconds']:.1f}s per image"
        )
