"""A small GATT database for testing the BLE layer, and its advertising parameters.

Shared by the tests and the subprocess scripts next to them (run as ``python -m tests.ble...``
from the project root).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bumble import gatt
from bumble.device import Connection

NAME = "TestWatch"


def _uuid(n: int) -> str:
    return f"7d2e{n:04x}-4c1b-4f3a-9d3e-2b1f00c0ffee"


SERVICE = _uuid(1)
CHAR_RW = _uuid(2)
CHAR_NOTIFY = _uuid(3)
CHAR_INDICATE = _uuid(4)
CHAR_SECRET = _uuid(5)
CHAR_DESC = _uuid(6)
DESC_CUSTOM = _uuid(7)
USER_DESCRIPTION = "00002901-0000-1000-8000-00805f9b34fb"
CCCD = "00002902-0000-1000-8000-00805f9b34fb"

_P = gatt.Characteristic.Properties
_A = gatt.Characteristic


@dataclass
class DemoDb:
    """The server side: characteristic objects plus a log of every write received."""

    writes: list[bytes] = field(default_factory=list)
    rw_value: bytes = b"hello"

    def __post_init__(self) -> None:
        self.rw = gatt.Characteristic(
            CHAR_RW,
            _P.READ | _P.WRITE | _P.WRITE_WITHOUT_RESPONSE,
            _A.READABLE | _A.WRITEABLE,
            gatt.CharacteristicValue(read=self._read_rw, write=self._write_rw),
        )
        self.notify = gatt.Characteristic(CHAR_NOTIFY, _P.READ | _P.NOTIFY, _A.READABLE, b"n0")
        self.indicate = gatt.Characteristic(CHAR_INDICATE, _P.INDICATE, _A.READABLE, b"i0")
        self.secret = gatt.Characteristic(
            CHAR_SECRET, _P.READ, _A.READABLE | _A.READ_REQUIRES_ENCRYPTION, b"secret"
        )
        self.custom_descriptor = gatt.Descriptor(
            DESC_CUSTOM, gatt.Descriptor.READABLE | gatt.Descriptor.WRITEABLE, b"\x01\x02"
        )
        self.described = gatt.Characteristic(
            CHAR_DESC,
            _P.READ,
            _A.READABLE,
            b"d",
            descriptors=[
                gatt.Descriptor(USER_DESCRIPTION, gatt.Descriptor.READABLE, b"described"),
                self.custom_descriptor,
            ],
        )
        self.service = gatt.Service(
            SERVICE, [self.rw, self.notify, self.indicate, self.secret, self.described]
        )

    def _read_rw(self, _connection: Connection) -> bytes:
        return self.rw_value

    def _write_rw(self, _connection: Connection, value: bytes) -> None:
        self.writes.append(bytes(value))
        self.rw_value = bytes(value)
