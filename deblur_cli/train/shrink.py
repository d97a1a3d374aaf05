"""Start a narrower DMPHN-backbone SAPHNet from a wider one: keep the channels whose filters weigh most.

Channels are chosen per *stream*: every tensor that writes a channel and every tensor that reads it is cut
with the same index set, so a residual path (x + body(x)) keeps meaning the same thing after the cut. The
bottleneck stream is one set for the whole hierarchy, because each level adds its bottleneck features to
the next finer level's. A student with fewer blocks per scale keeps each stack's first blocks. Stage 1 is
carried over; the refinement stages and policies start afresh (their inputs change width), as do any
CAPMs or cross-attention branches the student has.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..model.saphnet import SAPHNet


@dataclass(frozen=True)
class _Use:
    """One tensor's use of a stream: the parameter name (without .weight/.bias) and the axis of its weight
    that indexes the stream's channels; a writer's bias is cut along with it."""

    name: str
    axis: int
    writes: bool


def shrink_state(teacher: SAPHNet, student: SAPHNet) -> dict[str, torch.Tensor]:
    """The student's state dict: stage 1 cut down from the teacher's, everything else the student's own.

    Raises ValueError when the two do not share a DMPHN backbone of the same depth, or the student is wider.
    """
    t_cfg, s_cfg = teacher.config, student.config
    if t_cfg.backbone != "dmphn" or s_cfg.backbone != "dmphn":
        raise ValueError("shrinking needs the dmphn backbone on both networks")
    if s_cfg.levels != t_cfg.levels:
        raise ValueError(f"levels differ: teacher {t_cfg.levels}, student {s_cfg.levels}")
    if s_cfg.width > t_cfg.width or s_cfg.blocks > t_cfg.blocks:
        raise ValueError("the student must be no wider and have no more blocks than the teacher")
    source = {k: v.detach().float() for k, v in teacher.state_dict().items()}
    state = {k: v.clone() for k, v in student.state_dict().items()}
    cut: dict[str, dict[int, torch.Tensor]] = {}  # tensor name -> axis -> kept indices

    for uses, size in _streams(s_cfg.levels, s_cfg.blocks, s_cfg.width):
        keep = _strongest(source, uses, size)
        for use in uses:
            cut.setdefault(f"{use.name}.weight", {})[use.axis] = keep
            if use.writes:
                cut.setdefault(f"{use.name}.bias", {})[0] = keep
    for name, axes in cut.items():
        tensor = source[name]
        for axis, keep in axes.items():
            tensor = tensor.index_select(axis, keep)
        if tensor.shape != state[name].shape:
            raise ValueError(f"{name}: cut to {tuple(tensor.shape)}, student has {tuple(state[name].shape)}")
        state[name] = tensor.to(state[name].dtype)
    for name in state.keys() - cut.keys():  # stage 1's uncut tensors (e.g. the heads' biases)
        if name.startswith("hierarchy.") and name in source and source[name].shape == state[name].shape:
            state[name] = source[name].to(state[name].dtype)
    return state


def _strongest(source: dict[str, torch.Tensor], uses: list[_Use], size: int) -> torch.Tensor:
    """The `size` channels with the largest summed squared weight over every tensor of the stream."""
    score = None
    for use in uses:
        weight = source[f"{use.name}.weight"]
        dims = [d for d in range(weight.dim()) if d != use.axis]
        part = weight.pow(2).sum(dim=dims)
        score = part if score is None else score + part
    assert score is not None
    return score.topk(size).indices.sort().values


def _streams(levels: int, blocks: int, width: int) -> list[tuple[list[_Use], int]]:
    """Every channel stream of a DMPHN-backbone hierarchy, with the student's width for it."""
    conv_out, conv_in = 0, 1  # Conv2d weight: (out, in, kh, kw)
    tconv_out, tconv_in = 1, 0  # ConvTranspose2d weight: (in, out, kh, kw)
    streams: list[tuple[list[_Use], int]] = []
    bottleneck: list[_Use] = []

    def blocks_of(prefix: str) -> list[_Use]:
        """The residual blocks' use of their scale's stream; each block's inner channels are its own."""
        uses = []
        for b in range(blocks):
            body = f"{prefix}.blocks.{b}.body"
            uses += [_Use(f"{body}.0", conv_in, False), _Use(f"{body}.2", conv_out, True)]
        return uses

    def inner(prefix: str, channels: int) -> None:
        for b in range(blocks):
            body = f"{prefix}.blocks.{b}.body"
            streams.append(([_Use(f"{body}.0", conv_out, True), _Use(f"{body}.2", conv_in, False)], channels))

    for level in range(levels):
        enc, dec = f"hierarchy.encoders.{level}", f"hierarchy.decoders.{level}"
        streams.append((
            [_Use(f"{enc}.embed", conv_out, True), *blocks_of(f"{enc}.stacks.0"),
             _Use(f"{enc}.downs.0", conv_in, False)], width))
        streams.append((
            [_Use(f"{enc}.downs.0", conv_out, True), *blocks_of(f"{enc}.stacks.1"),
             _Use(f"{enc}.downs.1", conv_in, False)], 2 * width))
        bottleneck += [_Use(f"{enc}.downs.1", conv_out, True), *blocks_of(f"{enc}.stacks.2"),
                       *blocks_of(f"{dec}.stacks.2"), _Use(f"{dec}.ups.1", tconv_in, False)]
        streams.append((
            [_Use(f"{dec}.ups.1", tconv_out, True), *blocks_of(f"{dec}.stacks.1"),
             _Use(f"{dec}.ups.0", tconv_in, False)], 2 * width))
        streams.append((
            [_Use(f"{dec}.ups.0", tconv_out, True), *blocks_of(f"{dec}.stacks.0"),
             _Use(f"{dec}.head", conv_in, False)], width))
        for part in (enc, dec):
            for s in range(3):
                inner(f"{part}.stacks.{s}", width * 2**s)
    streams.append((bottleneck, 4 * width))
    return streams
