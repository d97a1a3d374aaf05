"""The inference engine: one `Deblurrer` that every caller (CLI, benchmarks, evaluation) goes through."""

from .deblurrer import Deblurrer
from .maps import Maps

__all__ = ["Deblurrer", "Maps"]
