"""The project's own error types: each carries a one-line reason fit to show a user as is."""

from __future__ import annotations


class DeblurError(Exception):
    """Base class: anything the CLI reports as a one-line error and a non-zero exit."""


class ImageReadError(DeblurError):
    """An input could not be read as an image (missing, truncated, not an image, unsupported mode)."""


class ImageWriteError(DeblurError):
    """An output could not be written."""


class DiskFullError(ImageWriteError):
    """The disk (or the user's quota) is full: every later output would fail the same way."""


class OutputExistsError(DeblurError):
    """The output exists and neither overwriting nor skipping was asked for."""


class ImageSizeError(DeblurError):
    """An image is too small for the network or too large for memory."""


class NumericalError(DeblurError):
    """The network's output held NaN or infinite values: no result is written from it."""


class WeightsError(DeblurError):
    """Weights could not be resolved, downloaded, verified or loaded."""


class DeviceError(DeblurError):
    """The requested device or precision is not available."""


class DatasetError(DeblurError):
    """A training or evaluation dataset is empty, unpaired or inconsistent (names what is wrong)."""
