"""deblur: remove spatially-varying motion blur from photos with SAPHNet."""

from .model import create_model, list_presets

__all__ = ["create_model", "list_presets"]
__version__ = "0.1.0"
