"""Pure codecs of the WearSync Interval Timer Service (``docs/protocol.md``).

Bytes in, frozen values out: no I/O, no asyncio, no Bluetooth stack. The BLE client in
``wearsync.ble`` and the simulated watch in ``wearsync.sim`` both speak through these values,
so a disagreement between them is a bug in one place.
"""

from wearsync.protocol.control import (
    AbortStaged,
    AckEvents,
    Commit,
    ControlOpcode,
    ControlRequest,
    PauseSession,
    ReplayEvents,
    ResumeSession,
    StartSession,
    StopSession,
    parse_control,
)
from wearsync.protocol.cts import (
    AdjustReason,
    CurrentTime,
    DstOffset,
    LocalTimeInformation,
    clock_values,
    cts_to_utc,
)
from wearsync.protocol.encode import decode_program, encode_program, wire_program
from wearsync.protocol.enums import OpenIntEnum
from wearsync.protocol.errors import (
    AttError,
    AttErrorCode,
    DecodeError,
    EncodeError,
    UnknownOpcodeError,
    UnsupportedVersionError,
)
from wearsync.protocol.events import (
    BatchFlags,
    EventBatch,
    EventId,
    EventKind,
    EventRecord,
    events_per_batch,
)
from wearsync.protocol.expand import expand
from wearsync.protocol.info import PROTOCOL_VERSION, Feature, InfoFlags, TimerInfo
from wearsync.protocol.program import (
    PROGRAM_FORMAT,
    CueSlot,
    Timed,
    WireCue,
    WireExercise,
    WireProgram,
    program_crc,
    program_identity,
)
from wearsync.protocol.status import SessionState, SessionStatusValue
from wearsync.protocol.transfer import ProgramChunk, Staging, chunk_capacity, program_chunks

__all__ = [
    "PROGRAM_FORMAT",
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
    "StartSession",
    "StopSession",
    "Timed",
    "TimerInfo",
    "UnknownOpcodeError",
    "UnsupportedVersionError",
    "WireCue",
    "WireExercise",
    "WireProgram",
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
