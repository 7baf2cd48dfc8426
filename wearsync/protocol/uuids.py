"""UUIDs of the WearSync Interval Timer Service and the standard services it relies on.

``docs/protocol.md`` §2.1: every WearSync UUID is the random base
``084bXXXX-0964-4b08-85d9-6f66f2b35e60`` with a 16-bit alias in place of ``XXXX``. Standard
Bluetooth SIG UUIDs expand a 16-bit number onto the Bluetooth Base UUID.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

#: The service's random 128-bit base; the alias replaces bits 96..111 (``XXXX``).
WEARSYNC_BASE_UUID: Final = UUID("084b0000-0964-4b08-85d9-6f66f2b35e60")
#: The Bluetooth Base UUID, onto which SIG-assigned 16-bit numbers are expanded.
BLUETOOTH_BASE_UUID: Final = UUID("00000000-0000-1000-8000-00805f9b34fb")


def wearsync_uuid(alias: int) -> UUID:
    """The WearSync UUID with 16-bit ``alias`` (§2.1)."""
    if not 0 <= alias <= 0xFFFF:
        raise ValueError(f"alias {alias} is not a 16-bit number")
    return UUID(int=WEARSYNC_BASE_UUID.int | alias << 96)


def sig_uuid(number: int) -> UUID:
    """The 128-bit form of a Bluetooth SIG 16-bit UUID, e.g. ``0x1805``."""
    if not 0 <= number <= 0xFFFF:
        raise ValueError(f"{number} is not a 16-bit number")
    return UUID(int=BLUETOOTH_BASE_UUID.int | number << 96)


# The WearSync Interval Timer Service (§2.2).
TIMER_SERVICE: Final = wearsync_uuid(0x0001)
TIMER_INFO: Final = wearsync_uuid(0x0002)
PROGRAM: Final = wearsync_uuid(0x0003)
CONTROL_POINT: Final = wearsync_uuid(0x0004)
SESSION_STATUS: Final = wearsync_uuid(0x0005)
EVENT_LOG: Final = wearsync_uuid(0x0006)

# Standard services and characteristics the protocol uses (§10).
CURRENT_TIME_SERVICE: Final = sig_uuid(0x1805)
CURRENT_TIME: Final = sig_uuid(0x2A2B)
LOCAL_TIME_INFORMATION: Final = sig_uuid(0x2A0F)
CLIENT_CHARACTERISTIC_CONFIGURATION: Final = sig_uuid(0x2902)
