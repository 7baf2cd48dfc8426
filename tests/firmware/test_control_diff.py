"""Differential testing of Program and Control Point handling (§6, §7, §9.4) against the codecs.

``firmware/build/asan/control_run`` applies writes to the firmware's ``watch.c`` (no BLE) and
prints each write's ATT code and Timer Info. The reference is built from the Python codecs every
wearsync watch shares (``ProgramChunk``, ``Staging``, ``parse_control``), the simulator's
``SessionRunner`` and ``EventLog``, wired as the simulated watch wires them. Random sequences
of writes (real chunks of a valid program cut at random sizes, corrupted chunks, requests of
every opcode with right and wrong lengths, CRCs and identities) must get the same codes and
leave the same Timer Info after every write. The clock stands still: a session stays at step 0.
"""

from __future__ import annotations

import subprocess
import zlib
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.firmware.build import validate_binary
from tests.watches.wearsync_timer.codec.strategies import wire_programs
from wearsync.protocol import DecodeError
from wearsync.routine.compiler import Step
from wearsync.sim.clock import ManualClock
from wearsync.sim.wearer import Wearer
from wearsync.watches.wearsync_timer.codec import (
    AbortStaged,
    AckEvents,
    AttError,
    Commit,
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
    StartSession,
    StopSession,
    TimerInfo,
    UnknownOpcodeError,
    WireCue,
    WireProgram,
    parse_control,
    program_identity,
)
from wearsync.watches.wearsync_timer.sim.event_log import EventLog
from wearsync.watches.wearsync_timer.sim.flash import SessionMarker
from wearsync.watches.wearsync_timer.sim.session import SessionRunner

MAX_PROGRAM = 4096
CAPACITY = 256
FEATURE_OF = {
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
                self.program, self.wire = staging.commit(crc)
            case AbortStaged():
                self.staging = Staging()
            case StartSession(identity=identity):
                if self.wire is None or self.program is None:
                    raise AttError(0x8A)
                if identity != program_identity(self.program):
                    raise AttError(0x8B)
                self.runner.start(self.wire)
            case StopSession():
                self.runner.stop()
            case PauseSession():
                self.runner.pause()
            case ResumeSession():
                self.runner.resume()
            case AckEvents(boot_id=boot_id, seq=seq):
                self.log.ack(boot_id, seq)

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


class Harness:
    def __init__(self) -> None:
        binary = validate_binary().parent / "control_run"
        self.process = subprocess.Popen(
            [str(binary)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ask(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        assert answer, "the harness died"
        return answer

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")

    def close(self) -> str:
        assert self.process.stdin is not None and self.process.stderr is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        return self.process.stderr.read()


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    running = Harness()
    yield running
    stderr = running.close()
    assert running.process.returncode == 0, stderr
    assert "runtime error" not in stderr and "Sanitizer" not in stderr, stderr


Write = tuple[str, bytes]


@st.composite
def writes(draw: st.DrawFn) -> tuple[int, list[Write]]:
    """A feature mask and a sequence of Program and Control Point writes around one program."""
    program = bytes(draw(wire_programs()))
    identity = program_identity(program)
    crc = zlib.crc32(program)
    features = draw(st.sampled_from([0x0F, 0x0F, 0x0F, 0x00, 0x01, 0x03, 0x0B]))
    out: list[Write] = []
    for _ in range(draw(st.integers(1, 12))):
        match draw(st.sampled_from(["stage", "chunk", "raw", "commit", "request"])):
            case "stage":  # the whole program in chunks of a random size
                size = draw(st.integers(1, 240))
                for offset in range(0, len(program), size):
                    piece = program[offset : offset + size]
                    out.append(("program", bytes(ProgramChunk(len(program), offset, piece))))
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
            case _:
                opcode = draw(st.integers(0, 10))
                body = {
                    3: identity if draw(st.booleans()) else bytes(16),
                    7: b"\x01\x00\x00\x00" + draw(st.integers(0, 8)).to_bytes(4, "little"),
                }.get(opcode, b"")
                if draw(st.integers(0, 9)) == 0:
                    body += b"\x00"  # a wrong length
                out.append(("control", bytes([opcode]) + body))
    return features, out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=writes())
def test_writes_get_the_codes_and_leave_the_timer_info_of_the_reference(
    harness: Harness, case: tuple[int, list[Write]]
) -> None:
    features, sequence = case
    reference = ReferenceWatch(features)
    harness.tell(f"reset {features}")
    for kind, value in sequence:
        expected = reference.program_write(value) if kind == "program" else reference.control(value)
        assert harness.ask(f"{kind} {value.hex()}") == expected, (kind, value.hex())
        assert harness.ask("info") == reference.info()
