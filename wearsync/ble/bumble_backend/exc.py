"""Exceptions the bumble backend raises at the bleak boundary.

They are bleak exception types (subclasses of :class:`bleak.exc.BleakError`), so code written
for any bleak backend handles them, and they carry typed fields so callers never parse
messages. This module imports only ``bleak.exc``, never bumble.
"""

from __future__ import annotations

from bleak.exc import BleakError


class BumbleBackendError(BleakError):
    """Root of the errors specific to the bumble backend."""


class BumbleTimeoutError(BumbleBackendError, TimeoutError):
    """An operation timed out: connecting, or a GATT request the peer never answered.

    It is also a builtin :class:`TimeoutError`, which is what bleak's own backends raise when
    ``connect()`` times out.

    Attributes:
        operation: what timed out, e.g. ``"connect"``.
        timeout: the time allowed, in seconds, when known.
    """

    def __init__(self, operation: str, timeout: float | None = None) -> None:
        detail = f" after {timeout:g} s" if timeout is not None else ""
        super().__init__(f"{operation} timed out{detail}")
        self.operation = operation
        self.timeout = timeout


class BumbleLinkLostError(BumbleBackendError):
    """The link went down before an operation completed (or was already down).

    Attributes:
        operation: the operation that was cut short.
        reason: the HCI disconnection reason when known (0x08 is a supervision timeout,
            0x13 the peer disconnecting on purpose), else ``None``.
    """

    def __init__(self, operation: str, reason: int | None = None) -> None:
        detail = f" (reason 0x{reason:02X})" if reason is not None else ""
        super().__init__(f"{operation}: not connected{detail}")
        self.operation = operation
        self.reason = reason


class BumblePairingError(BumbleBackendError):
    """Pairing or encryption failed.

    Attributes:
        reason: the SMP or HCI error code when known, else ``None``.
    """

    def __init__(self, message: str, reason: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class BumbleTransportError(BumbleBackendError):
    """The HCI transport could not be opened or the controller did not start.

    Attributes:
        hci: the transport spec that failed.
    """

    def __init__(self, hci: str, message: str) -> None:
        super().__init__(f"cannot open HCI transport {hci!r}: {message}")
        self.hci = hci
