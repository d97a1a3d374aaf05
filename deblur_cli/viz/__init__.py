"""Figures of what the network did: sampling heatmap, chosen cells, attention, filter offsets, compare."""

from .colormaps import COLORMAPS, apply_colormap, colormap
from .write import VIEWS, raw_maps_path, save_raw_maps, view_path, write_visualisations

__all__ = [
    "COLORMAPS",
    "VIEWS",
    "apply_colormap",
    "colormap",
    "raw_maps_path",
    "save_raw_maps",
    "view_path",
    "write_visualisations",
]
