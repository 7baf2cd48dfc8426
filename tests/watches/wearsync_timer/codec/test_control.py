"""Control Point requests (§7) and the ATT error codes they are answered with (§11)."""

from __future__ import annotations

import pytest

from wearsync.errors import WearSyncError
from wearsync.watches.wearsync_timer.codec import (
    AttError,
    AttErrorCode,
    DecodeError,
    EncodeError,
    StartSession,
    UnknownOpcodeError,
    parse_control,
)
from wearsync.watches.wearsync_timer.codec.control import (
    AbortStaged,
    AckEvents,
    Commit,
    ControlOpcode,
    PauseSession,
    ReplayEvents,
    ResumeSession,
    StartEntry,
    StopSession,
)
from wearsync.watches.wearsync_timer.codec.errors import ATT_ERROR_MEANINGS


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x02", AbortStaged()),
        (b"\x04", StopSession()),
        (b"\x05", PauseSession()),
        (b"\x06", ResumeSession()),
        (b"\x08", ReplayEvents()),
        (b"\x01\x78\x56\x34\x12", Commit(0x12345678)),
        (b"\x07\x01\x00\x00\x00\xff\xff\xff\xff", AckEvents(1, 0xFFFFFFFF)),
        (b"\x09" + bytes(range(16)) + b"\x02", StartEntry(bytes(range(16)), 2)),
    ],
)
def test_requests(data: bytes, expected: object) -> None:
    """Table 7-1: opcode byte, then little-endian parameters."""
    assert parse_control(data) == expected
    assert bytes(expected) == data  # type: ignore[call-overload]


def test_every_opcode_has_a_request() -> None:
    for opcode in ControlOpcode:
        length = {0x01: 5, 0x03: 17, 0x07: 9, 0x09: 18}.get(opcode, 1)
        assert parse_control(bytes([opcode]) + bytes(length - 1)).opcode is opcode


@pytest.mark.parametrize("opcode", [0x00, 0x0A, 0x80, 0xFF])
def test_unknown_opcode(opcode: int) -> None:
    with pytest.raises(UnknownOpcodeError) as caught:
        parse_control(bytes([opcode, 1, 2]))
    assert caught.value.opcode == opcode


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x01\x00",
        b"\x02\x00",
        b"\x03" + bytes(15),
        b"\x07" + bytes(9),
        b"\x09" + bytes(16),
        b"\x09" + bytes(18),
    ],
)
def test_wrong_lengths(data: bytes) -> None:
    """§7.1: a length other than the table's is INVALID_PARAMETER, not an unknown opcode."""
    with pytest.raises(DecodeError) as caught:
        parse_control(data)
    assert not isinstance(caught.value, UnknownOpcodeError)


def test_a_request_refuses_another_opcode() -> None:
    with pytest.raises(DecodeError, match="not COMMIT"):
        Commit.from_bytes(b"\x07" + bytes(4))


def test_start_needs_a_full_identity() -> None:
    with pytest.raises(EncodeError):
        StartSession(b"short")


def test_att_errors_carry_their_code() -> None:
    error = AttError(0x0F)
    assert error.code is AttErrorCode.INSUFFICIENT_ENCRYPTION
    assert error.hint and "pair" in error.hint
    assert isinstance(error, WearSyncError)
    unknown = AttError(0x9E)
    assert int(unknown.code) == 0x9E and not unknown.code.known
    assert "0x9E" in str(unknown)


def test_every_application_code_is_in_range_and_explained() -> None:
    app = [c for c in AttErrorCode if 0x80 <= c <= 0x9F]
    assert len(app) == 15
    assert all(c in ATT_ERROR_MEANINGS for c in AttErrorCode)
