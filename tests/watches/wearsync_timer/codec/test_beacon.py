"""The state beacon (docs/protocol.md §14): golden bytes, and what a companion recovers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wearsync.protocol.errors import DecodeError, EncodeError
from wearsync.watches.wearsync_timer.codec.beacon import (
    BeaconState,
    StateBeacon,
    beacon_key,
    candidate_states,
    open_beacon,
    seal,
)
from wearsync.watches.wearsync_timer.codec.status import SessionState

SPEC = Path(__file__).resolve().parents[4] / "docs" / "protocol.md"
LTK = bytes(range(16))
#: §13.1's program identity.
IDENTITY = bytes.fromhex("e7ad8af7960c6574dd830f2a798297e3")
KEY = bytes.fromhex("9dd7cc072579a8d2be2f11c8909ebc92423cfa040bcd6fd22c2ebef53d6dc82e")
STATE = bytes.fromhex("03 e7 ad 8a f7 96 0c 65 74 dd 83 0f 2a 79 82 97 e3")
MANUFACTURER_DATA = bytes.fromhex("ff ff 34 12 c0 e8 ba d1")
GOLDEN_STATE = BeaconState(IDENTITY, events_waiting=True, clock_set=True, session=SessionState.IDLE)


def test_the_golden_beacon_of_14_5() -> None:
    """03: EVENTS_WAITING | CLOCK_SET, session 0 (idle) · the identity · ff ff company id ·
    34 12 nonce 0x1234 · c0 e8 ba d1 the tag."""
    assert beacon_key(LTK) == KEY
    assert bytes(GOLDEN_STATE) == STATE
    assert BeaconState.from_bytes(STATE) == GOLDEN_STATE
    beacon = seal(KEY, 0x1234, GOLDEN_STATE)
    assert beacon.manufacturer_data() == MANUFACTURER_DATA
    assert StateBeacon.from_bytes(MANUFACTURER_DATA[2:]) == beacon


def test_the_specification_shows_the_beacon_fixtures() -> None:
    blocks = dict(
        re.findall(
            r"<!-- beacon-golden: ([\w-]+) -->\s*```\s*\n([0-9a-f ]+)\n```", SPEC.read_text()
        )
    )
    assert blocks == {"state": STATE.hex(" "), "manufacturer-data": MANUFACTURER_DATA.hex(" ")}


def test_a_companion_recovers_every_state_it_can_guess() -> None:
    other = bytes(range(16, 32))
    states = list(candidate_states([IDENTITY, other, IDENTITY]))
    assert len(states) == 24  # the repeated identity is tried once
    for nonce, state in enumerate(states):
        assert open_beacon(KEY, seal(KEY, nonce, state), states) == state


def test_without_the_key_or_the_identity_nothing_is_recovered() -> None:
    beacon = seal(KEY, 7, GOLDEN_STATE)
    assert open_beacon(beacon_key(bytes(16)), beacon, candidate_states([IDENTITY])) is None
    assert open_beacon(KEY, beacon, candidate_states([bytes(16)])) is None


def test_the_same_state_under_another_nonce_looks_different() -> None:
    assert seal(KEY, 1, GOLDEN_STATE).tag != seal(KEY, 2, GOLDEN_STATE).tag


@pytest.mark.parametrize("data", [b"", bytes(5), bytes(7)])
def test_a_beacon_of_another_length_is_refused(data: bytes) -> None:
    with pytest.raises(DecodeError):
        StateBeacon.from_bytes(data)


@pytest.mark.parametrize("data", [bytes(16), bytes([0x10]) + bytes(16), bytes([0x0C]) + bytes(16)])
def test_a_bad_state_is_refused(data: bytes) -> None:
    with pytest.raises(DecodeError):
        BeaconState.from_bytes(data)


def test_a_short_ltk_is_refused() -> None:
    with pytest.raises(EncodeError):
        beacon_key(bytes(15))
