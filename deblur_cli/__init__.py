"""deblur: remove spatially-varying motion blur from photos with SAPHNet.

The public face for scripts (the command line is `deblur`)::

    from deblur_cli import Deblurrer
    deblurrer = Deblurrer.from_pretrained("saphnet-s", device="cpu")
    sharp = deblurrer.restore(blurred)  # H x W x C uint8, uint16 or float32; same back

Errors are `deblur_cli.errors.DeblurError` subclasses with a one-line reason, or ValueError for bad arguments.
The names are imported on first use: `import deblur_cli` alone does not load torch, so the command line can
answer Ctrl-C cleanly while torch is still loading.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import create_model, list_presets
    from .pretrained import Deblurrer

__all__ = ["Deblurrer", "create_model", "list_presets"]
__version__ = "0.1.0"
"""The one place the version is set: pyproject.toml reads it from here."""

_HOMES = {"Deblurrer": ".pretrained", "create_model": ".model", "list_presets": ".model"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
