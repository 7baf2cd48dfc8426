"""The Session Status characteristic: what the watch's timer is doing now (§8).

Read it, or subscribe: the watch notifies it on every state change and at the start of every
step, which is enough for a phone to mirror the session live by unrolling the same program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Self

from wearsync.protocol.enums import OpenIntEnum
from wearsync.protocol.wire import U16_MAX, U32_MAX, Reader, Writer, build, check_uint

#: Length of the Session Status value (§8.1).
SESSION_STATUS_SIZE: Final = 7


class SessionState(OpenIntEnum):
    """The session state (§8.2); unknown states are kept, not rejected."""

    IDLE = 0
    RUNNING = 1
    PAUSED = 2


@dataclass(frozen=True)
class SessionStatusValue:
    """The Session Status value (§8.1, table 8-1).

    Attributes:
        state: idle, running or paused.
        step: index of the current step (0 when idle).
        step_elapsed_ms: time spent in the current step, pauses excluded (0 when idle).
    """

    state: SessionState
    step: int = 0
    step_elapsed_ms: int = 0

    def __post_init__(self) -> None:
        check_uint("state", int(self.state), 0xFF)
        check_uint("step", self.step, U16_MAX)
        check_uint("step elapsed", self.step_elapsed_ms, U32_MAX)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a Session Status read or notification (§8.1).

        Bytes after the first 7 are ignored: later minor revisions append fields (§3.3).

        Raises:
            DecodeError: the value is shorter than 7 bytes.
        """
        r = Reader(data, "session status")
        state, step, elapsed = SessionState(r.u8()), r.u16(), r.u32()
        return build(r, lambda: cls(state, step, elapsed))

    def __bytes__(self) -> bytes:
        return bytes(Writer().u8(int(self.state)).u16(self.step).u32(self.step_elapsed_ms))
