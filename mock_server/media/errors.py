"""Typed errors of the media generators.

Every bad argument to a public function of :mod:`fal_mock.mock_server.media` raises a
:class:`MediaError` subclass (all of them are also ``ValueError``), with a message that names the
offending value. The probe functions (:mod:`.probe`) never raise for bad bytes: they answer
``"other"`` or ``None``.
"""

from __future__ import annotations

__all__ = [
    "AudioParameterError",
    "GeometryError",
    "MediaError",
    "UnsupportedFormat",
]


class MediaError(ValueError):
    """Base of the media errors: an argument the generators cannot honour."""


class GeometryError(MediaError):
    """A size, preset, aspect ratio, resolution, duration, fps or frame count that is malformed or out of range."""


class UnsupportedFormat(MediaError):
    """An output format (image, audio or 3D) that this package does not write."""

    def __init__(self, family: str, requested: str, supported: tuple[str, ...]) -> None:
        super().__init__(f"unsupported {family} format {requested!r}; supported: {', '.join(supported)}")
        self.family = family
        self.requested = requested
        self.supported = supported


class AudioParameterError(MediaError):
    """A duration, sample rate or channel count out of the audio writers' limits."""
