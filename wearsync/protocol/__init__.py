"""Pure wire helpers several watch families share: the Current Time Service, SIG UUIDs,
integer and text readers/writers, open enums, and the codec errors.

Bytes in, frozen values out: no I/O, no asyncio, no Bluetooth stack. Each family's own codec
(e.g. :mod:`wearsync.watches.wearsync_timer.codec`) builds on these.
"""

from wearsync.protocol.cts import (
    AdjustReason,
    CurrentTime,
    DstOffset,
    LocalTimeInformation,
    clock_values,
    cts_to_utc,
)
from wearsync.protocol.enums import OpenIntEnum
from wearsync.protocol.errors import DecodeError, EncodeError, UnsupportedVersionError

__all__ = [
    "AdjustReason",
    "CurrentTime",
    "DecodeError",
    "DstOffset",
    "EncodeError",
    "LocalTimeInformation",
    "OpenIntEnum",
    "UnsupportedVersionError",
    "clock_values",
    "cts_to_utc",
]
