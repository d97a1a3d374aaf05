"""SAPHNet's `nn.Module`s. Nothing here reads files or knows about the command line."""

from .config import SAPHNetConfig
from .descriptor import ModelDescriptor
from .presets import DEFAULT_PRESET, PRESETS, create_model, get_config, list_presets
from .saphnet import SAPHNet, SAPHNetOutput

__all__ = [
    "DEFAULT_PRESET",
    "PRESETS",
    "ModelDescriptor",
    "SAPHNet",
    "SAPHNetConfig",
    "SAPHNetOutput",
    "create_model",
    "get_config",
    "list_presets",
]
