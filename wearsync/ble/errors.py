"""Typed Bluetooth errors for the layers above ``ble/``, with a hint a user can act on.

Inside ``ble/`` and at the bleak boundary the bleak exception types are used, as every bleak
backend does. Code above it (sync, CLI) wraps its bleak calls in :func:`ble_errors`, which turns
those into the :class:`BleError` family here, each carrying typed fields rather than meaning in
message text. This module imports bleak only when it translates an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from wearsync.errors import WearSyncError


class BleError(WearSyncError):
    """A Bluetooth operation failed.

    Attributes:
        address: the device address involved, when known.
    """

    def __init__(self, message: str, *, address: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.address = address


class BackendUnavailableError(BleError):
    """No usable Bluetooth stack: no adapter, no permission, or a bad ``--hci`` transport.

    Attributes:
        hci: the HCI transport spec that failed, or ``None`` for the platform stack.
    """

    def __init__(self, message: str, *, hci: str | None = None) -> None:
        super().__init__(
            message,
            hint=(
                "Check the HCI transport (e.g. tcp-client:127.0.0.1:PORT with the simulator "
                "running, or usb:0 with a dongle plugged in)."
                if hci
                else "Turn Bluetooth on; or, with no Bluetooth here, start the simulated watch "
                "('wearsync sim') and pass the --hci it prints (or set WEARSYNC_HCI)."
            ),
        )
        self.hci = hci


class DeviceNotFoundError(BleError):
    """The watch was not seen advertising within the time allowed."""

    def __init__(self, message: str, *, address: str | None = None) -> None:
        super().__init__(
            message,
            address=address,
            hint="Wake the watch, keep it within a few metres, and make sure no other phone "
            "is connected to it.",
        )


class BleTimeoutError(BleError):
    """An operation got no answer in time.

    Attributes:
        operation: what timed out.
        timeout: the time allowed in seconds, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        timeout: float | None = None,
        address: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(
            message,
            address=address,
            hint=hint or "Move the watch closer and try again.",
        )
        self.operation = operation
        self.timeout = timeout


class ConnectTimeoutError(BleTimeoutError):
    """The watch did not accept a connection in time."""

    def __init__(
        self, message: str, *, timeout: float | None = None, address: str | None = None
    ) -> None:
        super().__init__(
            message,
            operation="connect",
            timeout=timeout,
            address=address,
            hint="Wake the watch (it only accepts connections while advertising) and retry.",
        )


class LinkLostError(BleError):
    """The connection dropped before the operation finished.

    Attributes:
        reason: the HCI disconnection reason when known (0x08: out of range).
    """

    def __init__(
        self, message: str, *, reason: int | None = None, address: str | None = None
    ) -> None:
        super().__init__(
            message,
            address=address,
            hint="The watch went out of range or was busy; the sync is safe to run again.",
        )
        self.reason = reason


class GattError(BleError):
    """The watch answered a GATT request with an ATT error.

    Attributes:
        code: the ATT error code (e.g. 0x0F insufficient encryption).
    """

    def __init__(self, message: str, *, code: int, address: str | None = None) -> None:
        super().__init__(
            message,
            address=address,
            hint=(
                "Pair the watch first (wearsync pair)."
                if code in (0x05, 0x0F)
                else "The watch rejected the request; check that the profile matches it."
            ),
        )
        self.code = code


class PairingError(BleError):
    """Pairing or re-encryption with the watch failed.

    Attributes:
        reason: the SMP or HCI error code when known.
    """

    def __init__(
        self, message: str, *, reason: int | None = None, address: str | None = None
    ) -> None:
        super().__init__(
            message,
            address=address,
            hint="Remove the bond on both sides (wearsync unpair, and forget the phone on the "
            "watch) and pair again.",
        )
        self.reason = reason


def from_bleak(
    exc: BaseException, *, address: str | None = None, operation: str | None = None
) -> BleError | None:
    """Translate a bleak (or bumble backend) exception; ``None`` if it is not a BLE failure.

    Args:
        exc: the exception raised by a bleak call.
        address: the device address, for the message and the error's field.
        operation: what was being done, e.g. ``"connect"``; decides how a bare
            ``TimeoutError`` reads.
    """
    from bleak import exc as bleak_exc

    from wearsync.ble.bumble_backend import exc as bumble_exc

    what = operation or "Bluetooth operation"
    who = f" with {address}" if address else ""
    if isinstance(exc, bleak_exc.BleakDeviceNotFoundError):
        return DeviceNotFoundError(
            f"device {exc.identifier or address} not found", address=address or exc.identifier
        )
    if isinstance(exc, bumble_exc.BumbleTransportError):
        return BackendUnavailableError(str(exc), hci=exc.hci or None)
    if isinstance(exc, bleak_exc.BleakBluetoothNotAvailableError):
        return BackendUnavailableError(f"Bluetooth is not available: {exc.reason.name}")
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
        # The platform stack is unreachable (no BlueZ on D-Bus, no permission): there is no
        # Bluetooth to use on this machine, not a failure of one request.
        return BackendUnavailableError(
            f"Bluetooth is not available: cannot reach the system's Bluetooth service ({exc})"
        )
    if isinstance(exc, bumble_exc.BumbleLinkLostError):
        return LinkLostError(
            f"link lost{who} during {exc.operation}", reason=exc.reason, address=address
        )
    if isinstance(exc, bumble_exc.BumblePairingError):
        return PairingError(f"pairing failed{who}", reason=exc.reason, address=address)
    if isinstance(exc, bleak_exc.BleakGATTProtocolError):
        return GattError(
            f"{what} failed{who}: ATT error 0x{int(exc.code):02X} ({exc.code.name})",
            code=int(exc.code),
            address=address,
        )
    if isinstance(exc, TimeoutError):
        timed_out = exc.operation if isinstance(exc, bumble_exc.BumbleTimeoutError) else what
        timeout = exc.timeout if isinstance(exc, bumble_exc.BumbleTimeoutError) else None
        if timed_out == "connect":
            return ConnectTimeoutError(
                f"connecting{who} timed out", timeout=timeout, address=address
            )
        return BleTimeoutError(
            f"{timed_out}{who} timed out", operation=timed_out, timeout=timeout, address=address
        )
    if isinstance(exc, bleak_exc.BleakError):
        return BleError(
            f"{what} failed{who}: {exc}",
            address=address,
            hint="Retry; if it keeps failing, run again with logging on and report the log.",
        )
    return None


@contextmanager
def ble_errors(*, address: str | None = None, operation: str | None = None) -> Iterator[None]:
    """Re-raise bleak exceptions in the block as :class:`BleError` subclasses.

    Example::

        with ble_errors(address=device.address, operation="connect"):
            await client.connect()
    """
    try:
        yield
    except (Exception, TimeoutError) as exc:
        translated = from_bleak(exc, address=address, operation=operation)
        if translated is None:
            raise
        raise translated from exc
