"""Images in and out: reading with metadata, atomic writing, walking inputs and naming outputs."""

from .formats import IMAGE_EXTENSIONS, normalise_format
from .inputs import DEFAULT_SUFFIX, InputFile, check_output_folder, find_inputs, output_path
from .reader import ImageData, read_image
from .writer import write_image

__all__ = [
    "DEFAULT_SUFFIX",
    "IMAGE_EXTENSIONS",
    "ImageData",
    "InputFile",
    "check_output_folder",
    "find_inputs",
    "normalise_format",
    "output_path",
    "read_image",
    "write_image",
]
