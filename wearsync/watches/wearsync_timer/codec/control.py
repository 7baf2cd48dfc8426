"""Control Point requests (``docs/protocol.md`` §7).

Every request is a Write Request whose Write Response *is* the result: success, or an ATT
Error Response with a code of §11. There is no response notification to wait for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final, Self

from wearsync.protocol.enums import OpenIntEnum
from wearsync.protocol.errors import DecodeError
from wearsync.protocol.wire import U32_MAX, Reader, Writer, build, check, check_uint
from wearsync.watches.wearsync_timer.codec.errors import UnknownOpcodeError
from wearsync.watches.wearsync_timer.codec.program import IDENTITY_SIZE


class ControlOpcode(OpenIntEnum):
    """The first byte of a Control Point write (§7.1, table 7-1)."""

    COMMIT = 0x01
    ABORT_STAGED = 0x02
    START_SESSION = 0x03
    STOP_SESSION = 0x04
    PAUSE_SESSION = 0x05
    RESUME_SESSION = 0x06
    ACK_EVENTS = 0x07
    REPLAY_EVENTS = 0x08
    START_ENTRY = 0x09


def _expect(r: Reader, opcode: ControlOpcode, size: int) -> None:
    got = r.u8()
    if got != opcode:
        raise r.error(f"opcode 0x{got:02X} is not {opcode.name}")
    if r.remaining != size - 1:
        raise r.error(f"{opcode.name} is {size} bytes, got {r.remaining + 1}")


@dataclass(frozen=True)
class _Bare:
    """A request that is its opcode alone."""

    opcode: ClassVar[ControlOpcode]

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode the one-byte request.

        Raises:
            DecodeError: the byte is not this request's opcode, or more bytes follow.
        """
        r = Reader(data, "control request")
        _expect(r, cls.opcode, 1)
        return cls()

    def __bytes__(self) -> bytes:
        return bytes([self.opcode])


@dataclass(frozen=True)
class Commit:
    """COMMIT (§7.2): verify the staged program against ``crc32`` and make it the committed one.

    Attributes:
        crc32: CRC-32/ISO-HDLC of the whole staged program.
    """

    crc32: int
    opcode: ClassVar[ControlOpcode] = ControlOpcode.COMMIT

    def __post_init__(self) -> None:
        check_uint("crc32", self.crc32, U32_MAX)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a 5-byte COMMIT.

        Raises:
            DecodeError: wrong opcode or length.
        """
        r = Reader(data, "control request")
        _expect(r, cls.opcode, 5)
        return cls(r.u32())

    def __bytes__(self) -> bytes:
        return bytes(Writer().u8(self.opcode).u32(self.crc32))


@dataclass(frozen=True)
class AbortStaged(_Bare):
    """ABORT_STAGED (§7.3): discard the staged program; the committed one is untouched."""

    opcode: ClassVar[ControlOpcode] = ControlOpcode.ABORT_STAGED


@dataclass(frozen=True)
class StartSession:
    """START_SESSION (§7.4): run the committed program from its first step.

    Attributes:
        identity: the 16-byte identity of the program the client means to start; the watch
            refuses with ``PROGRAM_MISMATCH`` if its committed program is another one.
    """

    identity: bytes
    opcode: ClassVar[ControlOpcode] = ControlOpcode.START_SESSION

    def __post_init__(self) -> None:
        check(
            isinstance(self.identity, bytes) and len(self.identity) == IDENTITY_SIZE,
            f"a program identity is {IDENTITY_SIZE} bytes",
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a 17-byte START_SESSION.

        Raises:
            DecodeError: wrong opcode or length.
        """
        r = Reader(data, "control request")
        _expect(r, cls.opcode, 1 + IDENTITY_SIZE)
        return cls(r.take(IDENTITY_SIZE))

    def __bytes__(self) -> bytes:
        return bytes([self.opcode]) + self.identity


@dataclass(frozen=True)
class StartEntry:
    """START_ENTRY (§7.7, feature ENTRIES): run one entry of the committed program.

    Attributes:
        identity: the 16-byte identity of the committed program (as START_SESSION).
        entry: 0 for the whole routine (START_SESSION's effect), else entry 1..15 of the
            program's plan section (§5.8); an entry the program lacks fails UNKNOWN_ENTRY.
    """

    identity: bytes
    entry: int
    opcode: ClassVar[ControlOpcode] = ControlOpcode.START_ENTRY

    def __post_init__(self) -> None:
        check(
            isinstance(self.identity, bytes) and len(self.identity) == IDENTITY_SIZE,
            f"a program identity is {IDENTITY_SIZE} bytes",
        )
        check_uint("entry", self.entry, 255)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode an 18-byte START_ENTRY.

        Raises:
            DecodeError: wrong opcode or length.
        """
        r = Reader(data, "control request")
        _expect(r, cls.opcode, 2 + IDENTITY_SIZE)
        identity, entry = r.take(IDENTITY_SIZE), r.u8()
        return build(r, lambda: cls(identity, entry))

    def __bytes__(self) -> bytes:
        return bytes([self.opcode]) + self.identity + bytes([self.entry])


@dataclass(frozen=True)
class StopSession(_Bare):
    """STOP_SESSION (§7.5): end a running or paused session (a no-op when idle)."""

    opcode: ClassVar[ControlOpcode] = ControlOpcode.STOP_SESSION


@dataclass(frozen=True)
class PauseSession(_Bare):
    """PAUSE_SESSION (§7.6): pause a running session."""

    opcode: ClassVar[ControlOpcode] = ControlOpcode.PAUSE_SESSION


@dataclass(frozen=True)
class ResumeSession(_Bare):
    """RESUME_SESSION (§7.6): resume a paused session."""

    opcode: ClassVar[ControlOpcode] = ControlOpcode.RESUME_SESSION


@dataclass(frozen=True)
class AckEvents:
    """ACK_EVENTS (§9.4): every event up to and including ``(boot_id, seq)`` is stored.

    Attributes:
        boot_id: the boot of the newest event the client stored.
        seq: that event's sequence number.
    """

    boot_id: int
    seq: int
    opcode: ClassVar[ControlOpcode] = ControlOpcode.ACK_EVENTS

    def __post_init__(self) -> None:
        check_uint("boot id", self.boot_id, U32_MAX)
        check_uint("seq", self.seq, U32_MAX)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a 9-byte ACK_EVENTS.

        Raises:
            DecodeError: wrong opcode or length.
        """
        r = Reader(data, "control request")
        _expect(r, cls.opcode, 9)
        boot_id, seq = r.u32(), r.u32()
        return build(r, lambda: cls(boot_id, seq))

    def __bytes__(self) -> bytes:
        return bytes(Writer().u8(self.opcode).u32(self.boot_id).u32(self.seq))


@dataclass(frozen=True)
class ReplayEvents(_Bare):
    """REPLAY_EVENTS (§9.5): notify every unacknowledged event, then an end-of-replay batch."""

    opcode: ClassVar[ControlOpcode] = ControlOpcode.REPLAY_EVENTS


ControlRequest = (
    Commit
    | AbortStaged
    | StartSession
    | StopSession
    | PauseSession
    | ResumeSession
    | AckEvents
    | ReplayEvents
    | StartEntry
)

_BY_OPCODE: Final[dict[int, type[ControlRequest]]] = {
    cls.opcode: cls
    for cls in (
        Commit,
        AbortStaged,
        StartSession,
        StopSession,
        PauseSession,
        ResumeSession,
        AckEvents,
        ReplayEvents,
        StartEntry,
    )
}


def parse_control(data: bytes) -> ControlRequest:
    """Decode any Control Point write (§7.1).

    Raises:
        UnknownOpcodeError: the opcode is not one of table 7-1 (answer ``OPCODE_NOT_SUPPORTED``).
        DecodeError: empty, or the length is wrong for the opcode (answer ``INVALID_PARAMETER``).
    """
    if not data:
        raise DecodeError("control request", "empty write")
    cls = _BY_OPCODE.get(data[0])
    if cls is None:
        raise UnknownOpcodeError(data[0])
    return cls.from_bytes(data)
