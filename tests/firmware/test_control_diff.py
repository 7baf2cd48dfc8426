"""Differential testing of Program and Control Point handling (§6, §7, §9.4) against the codecs.

``firmware/build/asan/control_run`` applies writes to the firmware's ``watch.c`` (no BLE) and
prints each write's ATT code and Timer Info. The reference is built from the Python codecs every
wearsync watch shares (``ProgramChunk``, ``Staging``, ``parse_control``), the simulator's
``SessionRunner`` and ``EventLog``, wired as the simulated watch wires them. Random sequences
of writes (real chunks of a valid program cut at random sizes, corrupted chunks, requests of
every opcode with right and wrong lengths, CRCs, identities and entries, under masks with and
without ENTRIES) must get the same codes and leave the same Timer Info and Event Log Read
(28- or 29-byte records, the entry included) after every write. The clock stands still: a
session stays at its first step.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.firmware.tools import ToolProcess, run_checked
from tests.watches.wearsync_timer.codec.strategies import wire_plans, wire_programs
from wearsync.protocol import DecodeError
from wearsync.routine.compiler import Step
from wearsync.sim.clock import ManualClock
from wearsync.sim.wearer import Wearer
from wearsync.watches.wearsync_timer.codec import (
    AbortStaged,
    AckEvents,
    AttError,
    BatchFlags,
    Commit,
    EventBatch,
    EventKind,
    EventRecord,
    Feature,
    InfoFlags,
    PauseSession,
    ProgramChunk,
    ReplayEvents,
    ResumeSession,
    SessionState,
    SessionStatusValue,
    Staging,
    StartEntry,
    StartSession,
    StopSession,
    TimerInfo,
    UnknownOpcodeError,
    WireCue,
    WireProgram,
    parse_control,
    program_identity,
)
from wearsync.watches.wearsync_timer.codec.plan import WireEntry, WirePlan, WireSlot
from wearsync.watches.wearsync_timer.codec.program import REMINDER_CUE
from wearsync.watches.wearsync_timer.sim.event_log import EventLog
from wearsync.watches.wearsync_timer.sim.flash import SessionMarker
from wearsync.watches.wearsync_timer.sim.session import SessionRunner
from wearsync.watches.wearsync_timer.sim.timer_service import record_size_of

MAX_PROGRAM = 4096
CAPACITY = 256
FEATURE_OF = {
    StartEntry: Feature.ENTRIES,
    StartSession: Feature.SESSION_CONTROL,
    StopSession: Feature.SESSION_CONTROL,
    PauseSession: Feature.PAUSE_RESUME,
    ResumeSession: Feature.PAUSE_RESUME,
    ReplayEvents: Feature.EVENT_REPLAY,
}


pytestmark = pytest.mark.slow


class ReferenceWatch:
    """The simulated watch's Program and Control Point rules, without BLE (boot 1, clock 0)."""

    def __init__(self, features: int) -> None:
        self.features = Feature(features)
        self.staging = Staging()
        self.program: bytes | None = None
        self.wire: WireProgram | None = None
        self.log = EventLog(CAPACITY)
        self.seq = 0
        self.runner = SessionRunner(ManualClock(), self, self, Wearer())  # type: ignore[arg-type]

    # SessionHost and motor: events go to the log, the rest is not compared here.
    def on_session_event(self, kind: EventKind, step: Step, duration_ms: int, at_ms: int) -> None:
        self.log.append(
            EventRecord(
                boot_id=1, seq=self.seq, time_s=0, time_ms=0, kind=kind, clock_set=False,
                step=step.index, exercise=step.exercise, set=step.set, rep=step.rep,
                side=step.side, direction=step.direction, duration_ms=duration_ms,
                entry=self.runner.entry if self.features & Feature.ENTRIES else 0,
            )
        )  # fmt: skip
        self.seq += 1

    def on_session_status(self, status: SessionStatusValue) -> None:
        pass

    def on_session_marker(self, marker: SessionMarker | None) -> None:
        pass

    def watch_time(self, at_ms: int) -> tuple[int, datetime | None]:
        return at_ms, None

    def begin_session(self) -> None:
        pass

    def play(self, cue: WireCue, **_kwargs: object) -> None:
        pass

    def program_write(self, value: bytes) -> str:
        try:
            chunk = ProgramChunk.from_bytes(value)
        except DecodeError:
            return "code 129"
        try:
            self.staging = self.staging.accept(chunk, max_length=MAX_PROGRAM)
        except AttError as exc:
            return f"code {int(exc.code)}"
        return "code 0"

    def control(self, value: bytes) -> str:
        try:
            request = parse_control(value)
        except UnknownOpcodeError:
            return "code 128"
        except DecodeError:
            return "code 129"
        needed = FEATURE_OF.get(type(request))
        if needed is not None and not self.features & needed:
            return "code 128"
        if isinstance(request, ReplayEvents):
            return "code replay"
        try:
            self._apply(request)
        except AttError as exc:
            return f"code {int(exc.code)}"
        return "code 0"

    def _apply(self, request: object) -> None:
        match request:
            case Commit(crc32=crc):
                staging, self.staging = self.staging, Staging()
                if self.runner.state is not SessionState.IDLE:
                    raise AttError(0x89)
                # Format 2 only with ENTRIES (§3.4).
                formats = (1, 2) if self.features & Feature.ENTRIES else (1,)
                self.program, self.wire = staging.commit(crc, formats)
            case AbortStaged():
                self.staging = Staging()
            case StartSession(identity=identity):
                self._start(identity, 0)
            case StartEntry(identity=identity, entry=entry):
                self._start(identity, entry)
            case StopSession():
                self.runner.stop()
            case PauseSession():
                self.runner.pause()
            case ResumeSession():
                self.runner.resume()
            case AckEvents(boot_id=boot_id, seq=seq):
                self.log.ack(boot_id, seq)

    def _start(self, identity: bytes, entry: int) -> None:
        # §7.7's order: NO_PROGRAM, PROGRAM_MISMATCH, then the runner's SESSION_ACTIVE and
        # UNKNOWN_ENTRY.
        if self.wire is None or self.program is None:
            raise AttError(0x8A)
        if identity != program_identity(self.program):
            raise AttError(0x8B)
        self.runner.start(self.wire, entry)

    def events(self) -> str:
        """An Event Log Read at ATT_MTU 247 (§9.5.1)."""
        size = record_size_of(self.features)
        room = (246 - 2) // size
        pending = self.log.events
        flags = BatchFlags.MORE if len(pending) > room else BatchFlags(0)
        return f"events {bytes(EventBatch(flags, tuple(pending[:room]), size)).hex()}"

    def info(self) -> str:
        flags = InfoFlags(0)
        if self.log.lost:
            flags |= InfoFlags.EVENTS_LOST
        if self.staging.total_length:
            flags |= InfoFlags.STAGING
        value = TimerInfo(
            features=self.features,
            flags=flags,
            max_program_length=MAX_PROGRAM,
            event_capacity=CAPACITY,
            unacked_events=len(self.log.events),
            boot_id=1,
            uptime_s=0,
            clock_s=0,
            program_length=0 if self.program is None else len(self.program),
            program_identity=bytes(16) if self.program is None else program_identity(self.program),
        )
        return f"info {bytes(value).hex()}"


@pytest.fixture(scope="module")
def harness() -> Iterator[ToolProcess]:
    yield from run_checked(ToolProcess("control_run"))


Write = tuple[str, bytes]


def with_entries(wire: WireProgram, plan: WirePlan) -> WireProgram:
    """``wire`` as format 2 with ``plan``, given at least one entry, and a reminder cue."""
    if not plan.entries:
        plan = replace(plan, entries=(WireEntry(len(wire.exercises) - 1, (WireSlot(0),)),))
    cues = (*wire.cues, WireCue(REMINDER_CUE, (100,)))
    return replace(wire, cues=cues, plan=plan)


@st.composite
def writes(draw: st.DrawFn) -> tuple[int, list[Write]]:
    """A feature mask and a sequence of Program and Control Point writes around one program."""
    wire = draw(wire_programs())
    if wire.plan is None and draw(st.booleans()):
        wire = with_entries(wire, draw(wire_plans(len(wire.exercises))))
    program = bytes(wire)
    entries = 0 if wire.plan is None else len(wire.plan.entries)
    identity = program_identity(program)
    crc = zlib.crc32(program)
    features = draw(st.sampled_from([0x3F, 0x3F, 0x3F, 0x1F, 0x0F, 0x0F, 0x00, 0x03, 0x0B, 0x10]))
    out: list[Write] = []
    for _ in range(draw(st.integers(1, 12))):
        action = draw(
            st.sampled_from(["stage", "sync", "chunk", "raw", "commit", "start", "request"])
        )
        match action:
            case "stage" | "sync":  # the whole program in chunks of a random size
                size = draw(st.integers(1, 240))
                for offset in range(0, len(program), size):
                    piece = program[offset : offset + size]
                    out.append(("program", bytes(ProgramChunk(len(program), offset, piece))))
                if action == "sync":
                    out.append(("control", bytes(Commit(crc))))
            case "chunk":  # one chunk, possibly not continuing anything
                total = draw(st.sampled_from([len(program), len(program) + 1, 5000, 1]))
                offset = draw(st.integers(0, total - 1))
                data = draw(st.binary(min_size=1, max_size=max(1, min(total - offset, 40))))
                out.append(("program", bytes(ProgramChunk(total, offset, data))))
            case "raw":  # any bytes at all
                target = draw(st.sampled_from(["program", "control"]))
                out.append((target, draw(st.binary(max_size=64))))
            case "commit":
                right = draw(st.booleans())
                out.append(("control", bytes(Commit(crc if right else crc ^ 1))))
            case "start":  # START_ENTRY of an entry the program has, or just not
                entry = draw(st.integers(0, entries + 1))
                out.append(("control", bytes(StartEntry(identity, entry))))
            case _:
                opcode = draw(st.integers(0, 10))
                right_identity = identity if draw(st.booleans()) else bytes(16)
                body = {
                    3: right_identity,
                    9: right_identity + bytes([draw(st.integers(0, 16))]),
                    7: b"\x01\x00\x00\x00" + draw(st.integers(0, 8)).to_bytes(4, "little"),
                }.get(opcode, b"")
                if draw(st.integers(0, 9)) == 0:
                    body += b"\x00"  # a wrong length
                out.append(("control", bytes([opcode]) + body))
    return features, out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=writes())
def test_writes_get_the_codes_and_leave_the_timer_info_of_the_reference(
    harness: ToolProcess, case: tuple[int, list[Write]]
) -> None:
    features, sequence = case
    reference = ReferenceWatch(features)
    harness.tell(f"reset {features}")
    for kind, value in sequence:
        expected = reference.program_write(value) if kind == "program" else reference.control(value)
        assert harness.ask(f"{kind} {value.hex()}") == expected, (kind, value.hex())
        assert harness.ask("info") == reference.info()
        assert harness.ask("events") == reference.events()
