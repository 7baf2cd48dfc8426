"""UUIDs of the WearSync Interval Timer Service, and the standard ones it relies on.

``docs/protocol.md`` §2.1: every WearSync UUID is the random base
``084bXXXX-0964-4b08-85d9-6f66f2b35e60`` with a 16-bit alias in place of ``XXXX``. The Current
Time Service's UUIDs (§10) are re-exported so that one module names the watch's whole layout.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

from wearsync.protocol.uuids import (
    CLIENT_CHARACTERISTIC_CONFIGURATION,
    CURRENT_TIME,
    CURRENT_TIME_SERVICE,
    LOCAL_TIME_INFORMATION,
)

__all__ = [
    "CLIENT_CHARACTERISTIC_CONFIGURATION",
    "CONTROL_POINT",
    "CURRENT_TIME",
    "CURRENT_TIME_SERVICE",
    "EVENT_LOG",
    "LOCAL_TIME_INFORMATION",
    "PROGRAM",
    "SESSION_STATUS",
    "TIMER_INFO",
    "TIMER_SERVICE",
    "WEARSYNC_BASE_UUID",
    "wearsync_uuid",
]

#: The service's random 128-bit base; the alias replaces bits 96..111 (``XXXX``).
WEARSYNC_BASE_UUID: Final = UUID("084b0000-0964-4b08-85d9-6f66f2b35e60")


def wearsync_uuid(alias: int) -> UUID:
    """The WearSync UUID with 16-bit ``alias`` (§2.1)."""
    if not 0 <= alias <= 0xFFFF:
        raise ValueError(f"alias {alias} is not a 16-bit number")
    return UUID(int=WEARSYNC_BASE_UUID.int | alias << 96)


# The WearSync Interval Timer Service (§2.2).
TIMER_SERVICE: Final = wearsync_uuid(0x0001)
TIMER_INFO: Final = wearsync_uuid(0x0002)
PROGRAM: Final = wearsync_uuid(0x0003)
CONTROL_POINT: Final = wearsync_uuid(0x0004)
SESSION_STATUS: Final = wearsync_uuid(0x0005)
EVENT_LOG: Final = wearsync_uuid(0x0006)
