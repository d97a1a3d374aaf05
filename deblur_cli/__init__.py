"""deblur: remove spatially-varying motion blur from photos with SAPHNet.

The public face for scripts (the command line is `deblur`)::

    from deblur_cli import Deblurrer
    deblurrer = Deblurrer.from_pretrained("saphnet-s", device="cpu")
    sharp = deblurrer.restore(blurred)  # H x W x C uint8, uint16 or float32; same back

Errors are `deblur_cli.errors.DeblurError` subclasses with a one-line reason, or ValueError for bad arguments.
"""

from .engine import Deblurrer
from .model import create_model, list_presets

__all__ = ["Deblurrer", "create_model", "list_presets"]
__version__ = "0.1.0"
"""The one place the version is set: pyproject.toml reads it from here."""
