"""Pure codecs of the WearSync Interval Timer Service (``docs/protocol.md``).

Bytes in, frozen values out: no I/O, no asyncio, no Bluetooth stack. The GATT client
(:mod:`..client`) and the simulated watch (:mod:`..sim`) both speak through these values,
so a disagreement between them is a bug in one place.
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
from wearsync.watches.wearsync_timer.codec.control import (
    AbortStaged,
    AckEvents,
    Commit,
    ControlOpcode,
    ControlRequest,
    PauseSession,
    ReplayEvents,
    ResumeSession,
    StartEntry,
    StartSession,
    StopSession,
    parse_control,
)
from wearsync.watches.wearsync_timer.codec.encode import (
    decode_program,
    encode_program,
    wire_program,
)
from wearsync.watches.wearsync_timer.codec.errors import AttError, AttErrorCode, UnknownOpcodeError
from wearsync.watches.wearsync_timer.codec.events import (
    BatchFlags,
    EventBatch,
    EventId,
    EventKind,
    EventRecord,
    events_per_batch,
)
from wearsync.watches.wearsync_timer.codec.expand import expand
from wearsync.watches.wearsync_timer.codec.info import (
    PROTOCOL_VERSION,
    Feature,
    InfoFlags,
    TimerInfo,
)
from wearsync.watches.wearsync_timer.codec.plan import WireEntry, WirePlan, WireSlot
from wearsync.watches.wearsync_timer.codec.program import (
    PROGRAM_FORMAT,
    PROGRAM_FORMAT_PLAN,
    CueSlot,
    Timed,
    WireCue,
    WireExercise,
    WireProgram,
    program_crc,
    program_identity,
)
from wearsync.watches.wearsync_timer.codec.status import SessionState, SessionStatusValue
from wearsync.watches.wearsync_timer.codec.transfer import (
    ProgramChunk,
    Staging,
    chunk_capacity,
    program_chunks,
)

__all__ = [
    "PROGRAM_FORMAT",
    "PROGRAM_FORMAT_PLAN",
    "PROTOCOL_VERSION",
    "AbortStaged",
    "AckEvents",
    "AdjustReason",
    "AttError",
    "AttErrorCode",
    "BatchFlags",
    "Commit",
    "ControlOpcode",
    "ControlRequest",
    "CueSlot",
    "CurrentTime",
    "DecodeError",
    "DstOffset",
    "EncodeError",
    "EventBatch",
    "EventId",
    "EventKind",
    "EventRecord",
    "Feature",
    "InfoFlags",
    "LocalTimeInformation",
    "OpenIntEnum",
    "PauseSession",
    "ProgramChunk",
    "ReplayEvents",
    "ResumeSession",
    "SessionState",
    "SessionStatusValue",
    "Staging",
    "StartEntry",
    "StartSession",
    "StopSession",
    "Timed",
    "TimerInfo",
    "UnknownOpcodeError",
    "UnsupportedVersionError",
    "WireCue",
    "WireEntry",
    "WireExercise",
    "WirePlan",
    "WireProgram",
    "WireSlot",
    "chunk_capacity",
    "clock_values",
    "cts_to_utc",
    "decode_program",
    "encode_program",
    "events_per_batch",
    "expand",
    "parse_control",
    "program_chunks",
    "program_crc",
    "program_identity",
    "wire_program",
]
