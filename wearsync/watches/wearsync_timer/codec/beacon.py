"""The state beacon: what the watch advertises so a bonded companion can skip a sync (§14).

The watch puts six bytes in Manufacturer Specific Data (company id 0xFFFF, the SIG's id for
tests): a nonce and a tag, the first four bytes of an HMAC-SHA256 keyed from the bond's LTK
over the nonce and the watch's state. A stranger sees only random-looking bytes that change
at least every rotation; a bonded companion recomputes the tag for the few states it can
expect (:func:`candidate_states`) and learns which one it is, or that it is none of them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntFlag
from typing import Final, Self

from wearsync.protocol.wire import U16_MAX, Reader, Writer, build, check, check_uint
from wearsync.watches.wearsync_timer.codec.program import IDENTITY_SIZE
from wearsync.watches.wearsync_timer.codec.status import SessionState

#: Manufacturer Specific Data company id of the beacon (0xFFFF: the SIG's test id, §14.1).
BEACON_COMPANY_ID: Final = 0xFFFF
#: Bytes after the company id: nonce (2) and tag (4) (§14.1).
BEACON_SIZE: Final = 6
TAG_SIZE: Final = 4
#: Size of a long-term key (§14.2).
LTK_SIZE: Final = 16
#: What the beacon key is derived with from the LTK (§14.2).
KEY_LABEL: Final = b"WearSync state beacon v1"
#: The longest a watch keeps one nonce (§14.3), seconds.
ROTATION_S: Final = 900


class BeaconFlags(IntFlag):
    """The flag bits of the beacon state byte (§14.2, table 14-2)."""

    EVENTS_WAITING = 0x01
    CLOCK_SET = 0x02


@dataclass(frozen=True)
class BeaconState:
    """What the tag authenticates (§14.2): never sent as such, only recomputed.

    Attributes:
        program_identity: identity of the committed program (§5.7), all zeros if none.
        events_waiting: Timer Info's ``unacked_events`` is not 0.
        clock_set: Timer Info's CLOCK_SET flag.
        session: the session state (§8.1): idle, running or paused.
    """

    program_identity: bytes
    events_waiting: bool
    clock_set: bool
    session: SessionState

    def __post_init__(self) -> None:
        check(
            isinstance(self.program_identity, bytes)
            and len(self.program_identity) == IDENTITY_SIZE,
            f"program identity is {IDENTITY_SIZE} bytes",
        )
        check_uint("session state", int(self.session), 2)

    @property
    def state_byte(self) -> int:
        """Byte 0 of the state (table 14-2)."""
        flags = BeaconFlags(0)
        if self.events_waiting:
            flags |= BeaconFlags.EVENTS_WAITING
        if self.clock_set:
            flags |= BeaconFlags.CLOCK_SET
        return int(flags) | (int(self.session) << 2)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode the 17-byte state (§14.2): state byte, program identity.

        Raises:
            DecodeError: not 17 bytes, reserved bits set, or session state 3.
        """
        r = Reader(data, "beacon state")
        byte = r.u8()
        identity = r.take(IDENTITY_SIZE)
        r.end()
        if byte & 0xF0:
            raise r.error("reserved bits of the state byte are set")
        flags = BeaconFlags(byte & 0x03)
        session = SessionState((byte >> 2) & 0x03)
        return build(
            r,
            lambda: cls(
                identity,
                BeaconFlags.EVENTS_WAITING in flags,
                BeaconFlags.CLOCK_SET in flags,
                session,
            ),
        )

    def __bytes__(self) -> bytes:
        return bytes(Writer().u8(self.state_byte).raw(self.program_identity))


@dataclass(frozen=True)
class StateBeacon:
    """The beacon's bytes after the company id (§14.1, table 14-1).

    Attributes:
        nonce: changes at every state change and at least every :data:`ROTATION_S`.
        tag: the first four bytes of the HMAC of §14.2.
    """

    nonce: int
    tag: bytes

    def __post_init__(self) -> None:
        check_uint("nonce", self.nonce, U16_MAX)
        check(isinstance(self.tag, bytes) and len(self.tag) == TAG_SIZE, "tag is 4 bytes")

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode the 6 bytes of Manufacturer Specific Data after the company id.

        Raises:
            DecodeError: not exactly 6 bytes (a later format would be another length).
        """
        r = Reader(data, "state beacon")
        nonce, tag = r.u16(), r.take(TAG_SIZE)
        r.end()
        return build(r, lambda: cls(nonce, tag))

    def __bytes__(self) -> bytes:
        return bytes(Writer().u16(self.nonce).raw(self.tag))

    def manufacturer_data(self) -> bytes:
        """The whole Manufacturer Specific Data value: company id, then these bytes."""
        return BEACON_COMPANY_ID.to_bytes(2, "little") + bytes(self)


def beacon_key(ltk: bytes) -> bytes:
    """The beacon key of a bond: HMAC-SHA256(LTK, :data:`KEY_LABEL`) (§14.2)."""
    check(isinstance(ltk, bytes) and len(ltk) == LTK_SIZE, f"LTK is {LTK_SIZE} bytes")
    return hmac.new(ltk, KEY_LABEL, hashlib.sha256).digest()


def beacon_tag(key: bytes, nonce: int, state: BeaconState) -> bytes:
    """HMAC-SHA256(key, nonce as u16 || state)[:4] (§14.2)."""
    check_uint("nonce", nonce, U16_MAX)
    message = nonce.to_bytes(2, "little") + bytes(state)
    return hmac.new(key, message, hashlib.sha256).digest()[:TAG_SIZE]


def seal(key: bytes, nonce: int, state: BeaconState) -> StateBeacon:
    """The beacon a watch advertises for ``state`` under ``nonce``."""
    return StateBeacon(nonce, beacon_tag(key, nonce, state))


def candidate_states(identities: Iterable[bytes]) -> Iterator[BeaconState]:
    """Every state with one of ``identities``: 2 x 2 x 3 per identity (§14.4)."""
    seen: set[bytes] = set()
    for identity in identities:
        if identity in seen:
            continue
        seen.add(identity)
        for session in (SessionState.IDLE, SessionState.RUNNING, SessionState.PAUSED):
            for waiting in (False, True):
                for clock_set in (True, False):
                    yield BeaconState(identity, waiting, clock_set, session)


def open_beacon(
    key: bytes, beacon: StateBeacon, candidates: Iterable[BeaconState]
) -> BeaconState | None:
    """The candidate whose tag is the beacon's, or ``None`` (§14.4); compared in constant
    time."""
    for state in candidates:
        if hmac.compare_digest(beacon_tag(key, beacon.nonce, state), beacon.tag):
            return state
    return None
