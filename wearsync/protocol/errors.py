"""Errors every wire codec shares: decode and encode failures.

Each watch family's codec raises these (or subclasses) for malformed input; the timer service's
ATT error codes are its own (:mod:`wearsync.watches.wearsync_timer.codec.errors`).
"""

from __future__ import annotations

from wearsync.errors import WearSyncError


class DecodeError(WearSyncError):
    """Bytes that do not follow ``docs/protocol.md``.

    Every decoder of a wire codec raises this (or a subclass) for *any* malformed
    input, never ``IndexError``, ``struct.error``, ``UnicodeDecodeError`` or ``ValueError``.

    Attributes:
        what: the value being decoded, e.g. ``"event record"``.
        problem: what is wrong, in words.
    """

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"{what}: {problem}")


class UnsupportedVersionError(DecodeError):
    """A protocol or program-format version byte this implementation does not speak (§3).

    Attributes:
        version: the version byte received.
        supported: the versions this implementation speaks.
    """

    def __init__(self, what: str, version: int, supported: tuple[int, ...]) -> None:
        self.version = version
        self.supported = supported
        known = ", ".join(str(v) for v in supported)
        super().__init__(what, f"version {version} is not supported (supported: {known})")


class EncodeError(WearSyncError):
    """A value that cannot be put on the wire: out of range, too large, or a shape the format
    cannot express (e.g. a timer program whose steps follow no loop the format describes)."""
