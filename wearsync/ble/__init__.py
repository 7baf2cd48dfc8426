"""Bluetooth LE access for wearsync: the only package (with ``sim/``) that imports bleak.

Everything talks plain bleak (``BleakScanner``, ``BleakClient``); :mod:`.factory` picks the
backend: an HCI transport through the bumble backend (simulator, USB dongle) or the platform
stack. Importing this package loads neither bleak nor bumble; they load on first use.
"""

from wearsync.ble.errors import (
    BackendUnavailableError,
    BleError,
    BleTimeoutError,
    ConnectTimeoutError,
    DeviceNotFoundError,
    GattError,
    LinkLostError,
    PairingError,
    ble_errors,
    from_bleak,
)
from wearsync.ble.factory import find_device, make_client, make_scanner, resolve_hci
from wearsync.ble.hci import HCI_ENV_VAR

__all__ = [
    "HCI_ENV_VAR",
    "BackendUnavailableError",
    "BleError",
    "BleTimeoutError",
    "ConnectTimeoutError",
    "DeviceNotFoundError",
    "GattError",
    "LinkLostError",
    "PairingError",
    "ble_errors",
    "find_device",
    "from_bleak",
    "make_client",
    "make_scanner",
    "resolve_hci",
]
