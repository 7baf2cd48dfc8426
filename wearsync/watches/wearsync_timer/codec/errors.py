"""Errors of the WearSync Interval Timer Service: unknown opcodes and ATT error codes.

``docs/protocol.md`` §11 lists the ATT error codes a watch answers with. :class:`AttErrorCode` is
open: a code this version does not know is kept as a pseudo-member rather than crashing the
caller, so a newer watch's error still reaches the user with its number.
"""

from __future__ import annotations

from typing import Final

from wearsync.errors import WearSyncError
from wearsync.protocol.enums import OpenIntEnum
from wearsync.protocol.errors import DecodeError


class UnknownOpcodeError(DecodeError):
    """A Control Point request whose opcode this implementation does not know (§7).

    A watch answers it with :attr:`AttErrorCode.OPCODE_NOT_SUPPORTED`.

    Attributes:
        opcode: the opcode byte received.
    """

    def __init__(self, opcode: int) -> None:
        self.opcode = opcode
        super().__init__("control request", f"unknown opcode 0x{opcode:02X}")


class AttErrorCode(OpenIntEnum):
    """ATT error codes a WearSync watch answers with (``docs/protocol.md`` §11).

    The standard codes are those the protocol gives a meaning to; ``0x80``-``0x9F`` are the
    service's application errors.
    """

    INSUFFICIENT_AUTHENTICATION = 0x05
    INVALID_ATTRIBUTE_VALUE_LENGTH = 0x0D
    INSUFFICIENT_ENCRYPTION = 0x0F
    OPCODE_NOT_SUPPORTED = 0x80
    INVALID_PARAMETER = 0x81
    PROGRAM_TOO_LARGE = 0x82
    BAD_OFFSET = 0x83
    NOTHING_STAGED = 0x84
    STAGING_INCOMPLETE = 0x85
    CRC_MISMATCH = 0x86
    PROGRAM_INVALID = 0x87
    PROGRAM_VERSION_UNSUPPORTED = 0x88
    SESSION_ACTIVE = 0x89
    NO_PROGRAM = 0x8A
    PROGRAM_MISMATCH = 0x8B
    NOT_RUNNING = 0x8C
    ACK_OUT_OF_RANGE = 0x8D
    UNKNOWN_ENTRY = 0x8E
    CCCD_IMPROPERLY_CONFIGURED = 0xFD


#: What each code means, in words a user can read (§11).
ATT_ERROR_MEANINGS: Final[dict[int, str]] = {
    AttErrorCode.INSUFFICIENT_AUTHENTICATION: "the link is not bonded; pair with the watch",
    AttErrorCode.INVALID_ATTRIBUTE_VALUE_LENGTH: "the value has the wrong length",
    AttErrorCode.INSUFFICIENT_ENCRYPTION: "the link is not encrypted; pair with the watch",
    AttErrorCode.OPCODE_NOT_SUPPORTED: "the watch does not know this control request",
    AttErrorCode.INVALID_PARAMETER: "the request's parameters are malformed",
    AttErrorCode.PROGRAM_TOO_LARGE: "the program is larger than the watch can store",
    AttErrorCode.BAD_OFFSET: "the chunk does not continue the staged program",
    AttErrorCode.NOTHING_STAGED: "no program is staged",
    AttErrorCode.STAGING_INCOMPLETE: "the staged program is missing bytes",
    AttErrorCode.CRC_MISMATCH: "the staged program's CRC-32 differs from the one given",
    AttErrorCode.PROGRAM_INVALID: "the staged program is not a valid program",
    AttErrorCode.PROGRAM_VERSION_UNSUPPORTED: "the watch does not speak this program format",
    AttErrorCode.SESSION_ACTIVE: "a session is running or paused",
    AttErrorCode.NO_PROGRAM: "the watch has no committed program",
    AttErrorCode.PROGRAM_MISMATCH: "the committed program is not the one named",
    AttErrorCode.NOT_RUNNING: "the session is not in a state that allows this",
    AttErrorCode.ACK_OUT_OF_RANGE: "the acknowledged event was never recorded",
    AttErrorCode.UNKNOWN_ENTRY: "the committed program has no such entry",
    AttErrorCode.CCCD_IMPROPERLY_CONFIGURED: "notifications are not enabled",
}


class AttError(WearSyncError):
    """An ATT Error Response from the watch, or one a simulated watch is about to send.

    The meaning is carried by :attr:`code`, never by the message text.

    Attributes:
        code: the ATT error code (an :class:`AttErrorCode`, possibly an unknown one).
    """

    def __init__(self, code: int, detail: str = "", *, hint: str | None = None) -> None:
        self.code = AttErrorCode(code)
        meaning = ATT_ERROR_MEANINGS.get(self.code, "unknown ATT error")
        text = f"ATT error 0x{int(self.code):02X} ({meaning})"
        if detail:
            text += f": {detail}"
        if hint is None and self.code in (
            AttErrorCode.INSUFFICIENT_AUTHENTICATION,
            AttErrorCode.INSUFFICIENT_ENCRYPTION,
        ):
            hint = "pair (bond) with the watch, then try again"
        super().__init__(text, hint=hint)
