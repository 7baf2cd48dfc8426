"""A bleak backend built on bumble: plain ``BleakScanner``/``BleakClient`` over any HCI transport.

It drives a bumble host stack in the central role, so the same bleak code talks to the
simulated watch on a virtual link (``hci=VirtualLink`` or ``tcp-client:127.0.0.1:PORT``) and
to a real watch through a USB dongle (``usb:0``) without BlueZ.

The heavy modules (bumble itself) load on first attribute access, so importing this package
alone stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wearsync.ble.bumble_backend.exc import (
    BumbleBackendError,
    BumbleLinkLostError,
    BumblePairingError,
    BumbleTimeoutError,
    BumbleTransportError,
)

if TYPE_CHECKING:
    from wearsync.ble.bumble_backend.central import (
        BumbleCentral,
        close_central,
        close_centrals,
        get_central,
    )
    from wearsync.ble.bumble_backend.client import DEFAULT_MTU, MAX_MTU, BumbleBleakClient
    from wearsync.ble.bumble_backend.scanner import BumbleBleakScanner
    from wearsync.ble.hci import HCI_ENV_VAR, HciSpec, HciTransportFactory

_LAZY = {
    "BumbleCentral": "central",
    "close_central": "central",
    "close_centrals": "central",
    "get_central": "central",
    "DEFAULT_MTU": "client",
    "MAX_MTU": "client",
    "BumbleBleakClient": "client",
    "BumbleBleakScanner": "scanner",
}

__all__ = [
    "DEFAULT_MTU",
    "HCI_ENV_VAR",
    "MAX_MTU",
    "BumbleBackendError",
    "BumbleBleakClient",
    "BumbleBleakScanner",
    "BumbleCentral",
    "BumbleLinkLostError",
    "BumblePairingError",
    "BumbleTimeoutError",
    "BumbleTransportError",
    "HciSpec",
    "HciTransportFactory",
    "close_central",
    "close_centrals",
    "get_central",
]


def __getattr__(name: str) -> Any:
    if name in ("HCI_ENV_VAR", "HciSpec", "HciTransportFactory"):
        return getattr(importlib.import_module("wearsync.ble.hci"), name)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
