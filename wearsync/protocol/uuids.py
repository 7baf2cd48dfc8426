"""UUIDs of the standard Bluetooth SIG services and characteristics several watches use.

Standard Bluetooth SIG UUIDs expand a 16-bit number onto the Bluetooth Base UUID.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

#: The Bluetooth Base UUID, onto which SIG-assigned 16-bit numbers are expanded.
BLUETOOTH_BASE_UUID: Final = UUID("00000000-0000-1000-8000-00805f9b34fb")


def sig_uuid(number: int) -> UUID:
    """The 128-bit form of a Bluetooth SIG 16-bit UUID, e.g. ``0x1805``."""
    if not 0 <= number <= 0xFFFF:
        raise ValueError(f"{number} is not a 16-bit number")
    return UUID(int=BLUETOOTH_BASE_UUID.int | number << 96)


# The Current Time Service (docs/protocol.md §10, and InfiniTime's clock).
CURRENT_TIME_SERVICE: Final = sig_uuid(0x1805)
CURRENT_TIME: Final = sig_uuid(0x2A2B)
LOCAL_TIME_INFORMATION: Final = sig_uuid(0x2A0F)
CLIENT_CHARACTERISTIC_CONFIGURATION: Final = sig_uuid(0x2902)
