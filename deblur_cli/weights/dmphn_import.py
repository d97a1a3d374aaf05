"""Import the published DMPHN weights: the authors' six `.pkl` state dicts (read as tensors only) or one
safetensors file of the same keys, checked key by key, mapped onto SAPHNet's DMPHN backbone."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from ..errors import WeightsError
from ..model import SAPHNet, SAPHNetConfig
from ..model.dmphn import DECODER_BLOCKS, DMPHN124, ENCODER_BLOCKS, StackDMPHN
from ..model.published import PublishedNetwork

PARTS = tuple(f"{kind}_lv{level}" for kind in ("encoder", "decoder") for level in (1, 2, 3))
"""The authors' six modules; their checkpoint folder holds one `<part>.pkl` per module."""


def read_dmphn_state(source: str | Path) -> dict[str, torch.Tensor]:
    """DMPHN 1-2-4's state dict, keys `<part>.<layer>`, from a safetensors file or a folder of the
    authors' `.pkl` files, checked against DMPHN's layers (every key, every shape).

    Raises:
        WeightsError: missing files, unreadable or pickled code, or keys and shapes that are not DMPHN's.
    """
    source = Path(source)
    if source.is_dir():
        state: dict[str, torch.Tensor] = {}
        for part in PARTS:
            path = source / f"{part}.pkl"
            if not path.is_file():
                raise WeightsError(f"{source}: no {part}.pkl (expected the authors' six files: "
                                   f"{', '.join(p + '.pkl' for p in PARTS)})")
            try:
                tensors = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
                raise WeightsError(f"{path}: not a tensors-only state dict (torch.load with "
                                   f"weights_only=True refused it: {exc.__class__.__name__})") from None
            if not isinstance(tensors, dict):
                raise WeightsError(f"{path}: holds a {type(tensors).__name__}, not a state dict")
            state.update({f"{part}.{key}": value for key, value in tensors.items()})
    elif source.is_file():
        try:
            state = load_file(source)
        except Exception as exc:  # safetensors raises its own error types, and OSError
            raise WeightsError(f"{source}: not a safetensors file ({exc})") from None
    else:
        raise WeightsError(f"{source}: no such file or folder")
    _check_layout(state, origin=str(source))
    return {key: value.float() for key, value in state.items()}


def _check_layout(state: dict[str, torch.Tensor], *, origin: str) -> None:
    expected = {key: tuple(t.shape) for key, t in DMPHN124().state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        detail = f"missing {', '.join(missing[:3])}" if missing else f"unexpected {', '.join(unexpected[:3])}"
        raise WeightsError(f"{origin}: not DMPHN 1-2-4's layers ({detail}"
                           f"{' ...' if len(missing or unexpected) > 3 else ''})")
    for key, shape in expected.items():
        if not isinstance(state[key], torch.Tensor) or tuple(state[key].shape) != shape:
            raise WeightsError(f"{origin}: {key} has shape {tuple(getattr(state[key], 'shape', ()))}, "
                               f"DMPHN's is {shape}")


def dmphn_key_map() -> dict[str, str]:
    """DMPHN key -> SAPHNet key (its DMPHN backbone); DMPHN level l is SAPHNet's hierarchy level l - 1."""
    mapping: dict[str, str] = {}
    for level in (1, 2, 3):
        enc, dec = f"hierarchy.encoders.{level - 1}", f"hierarchy.decoders.{level - 1}"
        encoder = {"layer1": f"{enc}.embed", "layer5": f"{enc}.downs.0", "layer9": f"{enc}.downs.1"}
        decoder = {"layer16": f"{dec}.ups.1", "layer20": f"{dec}.ups.0", "layer24": f"{dec}.head"}
        layers = {f"encoder_lv{level}": encoder, f"decoder_lv{level}": decoder}
        for part, prefix, blocks in ((f"encoder_lv{level}", enc, ENCODER_BLOCKS),
                                     (f"decoder_lv{level}", dec, DECODER_BLOCKS)):
            for i, name in enumerate(blocks):  # conv-ReLU-conv: its convolutions are .0 and .2
                for conv in (".0", ".2"):
                    layers[part][name + conv] = f"{prefix}.stacks.{i // 2}.blocks.{i % 2}.body{conv}"
        for part, names in layers.items():
            for layer, target in names.items():
                for tensor in ("weight", "bias"):
                    mapping[f"{part}.{layer}.{tensor}"] = f"{target}.{tensor}"
    return mapping


def check_dmphn_compatible(config: SAPHNetConfig) -> None:
    """DMPHN's weights fit only SAPHNet's DMPHN backbone at DMPHN's widths and depth.

    Raises:
        WeightsError: any other config.
    """
    if (config.backbone, config.width, config.blocks, config.levels) != ("dmphn", 32, 2, 3):
        raise WeightsError("DMPHN's weights need backbone='dmphn', width=32, blocks=2, levels=3 "
                           "(the saphnet-b preset)")


def load_dmphn_into(model: SAPHNet, state: dict[str, torch.Tensor]) -> None:
    """Copy DMPHN's tensors into `model`'s backbone; everything else keeps its initialisation (the
    SAPHNet branches start at zero, so the model then computes DMPHN 1-2-4's stage 1)."""
    check_dmphn_compatible(model.config)
    own = model.state_dict()
    with torch.no_grad():
        for source, target in dmphn_key_map().items():
            own[target].copy_(state[source])


DMPHN_CARD = """SAPHNet `saphnet-b` whose stage 1 holds DMPHN 1-2-4's published GoPro-trained weights
(Zhang et al., "Deep Stacked Hierarchical Multi-patch Network for Image Deblurring", CVPR 2019;
HongguangZhang/DMPHN-cvpr19-master, `checkpoints/DMPHN_1_2_4`), imported by `deblur weights import dmphn`.
The authors published those weights without a licence, hence `license: other`. SAPHNet's own branches
(CAPMs, cross-attention, refinement stages, sampling policy) start at zero, so until fine-tuned these
weights compute DMPHN 1-2-4's output."""


def import_dmphn(source: str | Path, folder: str | Path, *, seed: int = 0) -> str:
    """Write a `saphnet-b` weights folder (config, fp16 safetensors, card) started from DMPHN's weights;
    returns the sha256 of `model.safetensors`."""
    from ..model import create_model
    from .format import model_card, save_pretrained

    state = read_dmphn_state(source)
    torch.manual_seed(seed)
    model = create_model("saphnet-b")
    load_dmphn_into(model, state)
    card = model_card("saphnet-b", model.config, license="other", summary=DMPHN_CARD)
    return save_pretrained(model, folder, preset="saphnet-b", card=card)


def load_published(source: str | Path) -> PublishedNetwork:
    """DMPHN 1-2-4 (safetensors or the authors' `.pkl` folder, as `read_dmphn_state` reads them) or
    Stack(k)-DMPHN (safetensors, keys ``{encoder,decoder}_s{k}_lv{l}.<layer>``), ready for the engine.

    Raises:
        WeightsError: unreadable, or neither network's layers.
    """
    source = Path(source)
    if source.is_file():
        try:
            state = load_file(source)
        except Exception as exc:  # safetensors raises its own error types, and OSError
            raise WeightsError(f"{source}: not a safetensors file ({exc})") from None
        if state and all(key.split(".")[0].count("_") == 2 for key in state):
            try:
                stages = max(int(key.split("_")[1][1:]) for key in state)
                stack = StackDMPHN(stages=stages)
                stack.load_authors_state_dict({key: value.float() for key, value in state.items()})
            except (RuntimeError, ValueError) as exc:
                reason = str(exc).splitlines()[0]
                raise WeightsError(f"{source}: not Stack(k)-DMPHN's layers ({reason})") from None
            return PublishedNetwork(stack, f"Stack({stages})-DMPHN").eval()
    single = DMPHN124()
    single.load_state_dict(read_dmphn_state(source))
    return PublishedNetwork(single, "DMPHN 1-2-4").eval()
