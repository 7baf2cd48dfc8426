"""bleak's types under the facade's names, for annotations in the watch families.

The families never import bleak themselves (only :mod:`wearsync.ble` does); a GATT client of a
family annotates with these, under ``TYPE_CHECKING``, so importing it costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bleak import BleakClient as BleClient
    from bleak.backends.characteristic import BleakGATTCharacteristic as GattCharacteristic
    from bleak.backends.device import BLEDevice as BleDevice

__all__ = ["BleClient", "BleDevice", "GattCharacteristic"]
