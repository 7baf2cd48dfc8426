"""Golden bytes: each fixture is decoded by hand in its docstring, byte by byte.

The same byte strings are the worked examples of docs/protocol.md §13; the last test checks that
the document and these fixtures agree.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from wearsync.protocol.cts import CurrentTime
from wearsync.routine import Direction, Side, StepKind
from wearsync.watches.wearsync_timer.codec import (
    AckEvents,
    AdjustReason,
    BatchFlags,
    Commit,
    CueSlot,
    DstOffset,
    EventBatch,
    EventKind,
    Feature,
    InfoFlags,
    LocalTimeInformation,
    ProgramChunk,
    SessionState,
    SessionStatusValue,
    StartSession,
    TimerInfo,
    WireCue,
    WireProgram,
    clock_values,
    cts_to_utc,
    expand,
    parse_control,
    program_crc,
    program_identity,
)
from wearsync.watches.wearsync_timer.codec.control import StartEntry
from wearsync.watches.wearsync_timer.codec.plan import WireEntry, WirePlan, WireSlot

SPEC = Path(__file__).resolve().parents[4] / "docs" / "protocol.md"


def golden(text: str) -> bytes:
    return bytes.fromhex(text)


PROGRAM = golden(
    "01 00 04 01 03 04 44 65 6d 6f 09 21 3c 06 02 03 0f 0a 0f 01 01 3c 89 62 75 7a 7a 5f 6c"
    " 6f 6e 67 01 78 0a 01 01 01 0a 02 0b 07 05 01 00 03 0b 54 6f 65 20 50 72 65 73 73 65 73"
)
CHUNK = bytes.fromhex("3a 00 00 00") + PROGRAM
COMMIT = golden("01 e5 02 7e 9b")
START = golden("03 e7 ad 8a f7 96 0c 65 74 dd 83 0f 2a 79 82 97 e3")
INFO = golden(
    "01 0f 00 01 00 10 00 01 03 00 07 00 00 00 10 0e 00 00 00 b9 55 69 3a 00"
    " e7 ad 8a f7 96 0c 65 74 dd 83 0f 2a 79 82 97 e3"
)
STATUS = golden("01 05 00 e2 04 00 00")
BATCH = golden(
    "04 1c 07 00 00 00 29 00 00 00 1e b9 55 69 fa 00 02 01 05 00 00 01 03 00 00 00 a8 61 00 00"
)
ACK = golden("07 07 00 00 00 29 00 00 00")
LOCAL_TIME = golden("00 04")
CURRENT_TIME = golden("ea 07 07 01 13 1e 0f 03 80 02")
IDENTITY = bytes.fromhex("e7ad8af7960c6574dd830f2a798297e3")


def test_program_decodes_field_by_field() -> None:
    """§13.1, 58 bytes.

    01 format · 00 flags · 04 cues · 01 exercise · 03 end cue · 04 "Demo";
    cue 0: 09 slot countdown, 21 = one time + HAS_STRENGTH, 3c strength 60, 06 = 60 ms;
    cue 1: 02 hold_end, 03 three narrow times 0f 0a 0f = 150, 100, 150 ms;
    cue 2: 01 hold_start, 01 one time, 3c = 600 ms;
    cue 3: 89 custom name of 9 bytes "buzz_long", 01 one time, 78 = 1200 ms;
    exercise: 0a HAS_LEAD|HAS_AFTER · 01 sides both · 01 direction none · 01 set · 0a reps 10 ·
    02 countdown_s · 0b lead 5 s · 07 effort 3 s · 05 after 2 s · 01 override: 00 prepare -> 03 ·
    0b "Toe Presses".
    """
    program = WireProgram.from_bytes(PROGRAM)
    assert program.title == "Demo"
    assert [c.name for c in program.cues] == ["countdown", "hold_end", "hold_start", "buzz_long"]
    assert program.cues[0].pattern == (60,) and program.cues[0].strength == 60
    assert program.cues[1].pattern == (150, 100, 150) and program.cues[1].strength == 100
    assert program.cues[3].pattern == (1200,)
    assert program.end_cue == 3
    (ex,) = program.exercises
    assert ex.name == "Toe Presses"
    assert (ex.effort.kind, ex.effort.ms) == (StepKind.HOLD, 3000)
    assert ex.lead is not None and (ex.lead.kind, ex.lead.ms) == (StepKind.PREPARE, 5000)
    assert ex.after is not None and (ex.after.kind, ex.after.ms) == (StepKind.RELEASE, 2000)
    assert (ex.sets, ex.reps, ex.countdown_s) == (1, 10, 2)
    assert ex.sides == (Side.BOTH,) and ex.directions == (Direction.NONE,)
    assert ex.cue_overrides == ((CueSlot.PREPARE, 3),)
    assert bytes(program) == PROGRAM


def test_program_expansion_matches_the_worked_example() -> None:
    """§13.1: prepare 5 s with buzz_long, then ten (hold 3 s, release 2 s); 21 steps."""
    steps = expand(WireProgram.from_bytes(PROGRAM))
    assert len(steps) == 21 == WireProgram.from_bytes(PROGRAM).step_count
    first, hold, release = steps[:3]
    assert (first.kind, first.duration_ms, first.cue, first.rep) == (
        StepKind.PREPARE,
        5000,
        "buzz_long",
        0,
    )
    assert (hold.kind, hold.start_ms, hold.cue, hold.countdown_cue, hold.countdown_ms) == (
        StepKind.HOLD,
        5000,
        "hold_start",
        "countdown",
        2000,
    )
    assert (release.kind, release.cue, release.countdown_cue) == (
        StepKind.RELEASE,
        "hold_end",
        None,
    )
    assert steps[-1].rep == 10 and steps[-1].end_ms == 5000 + 10 * 5000


def test_identity_and_crc_of_the_program() -> None:
    """§5.7: identity = SHA-256[:16]; CRC-32/ISO-HDLC, whose check value is 0xCBF43926."""
    assert program_crc(b"123456789") == 0xCBF43926
    assert program_crc(PROGRAM) == 0x9B7E02E5
    assert program_identity(PROGRAM) == IDENTITY


def test_chunk() -> None:
    """§13.2: 3a 00 total 58 · 00 00 offset 0 · the 58 program bytes."""
    chunk = ProgramChunk.from_bytes(CHUNK)
    assert (chunk.total_length, chunk.offset, chunk.data) == (58, 0, PROGRAM)
    assert bytes(chunk) == CHUNK


def test_commit_start_and_ack() -> None:
    """§13.2, §13.5: 01 COMMIT + e5 02 7e 9b (CRC LE); 03 START + identity;
    07 ACK + 07 00 00 00 boot 7 + 29 00 00 00 seq 41."""
    assert parse_control(COMMIT) == Commit(0x9B7E02E5)
    assert parse_control(START) == StartSession(IDENTITY)
    assert parse_control(ACK) == AckEvents(7, 41)
    assert bytes(Commit(0x9B7E02E5)) == COMMIT
    assert bytes(AckEvents(7, 41)) == ACK


def test_timer_info() -> None:
    """§13.3: 01 version · 0f 00 features · 01 CLOCK_SET · 00 10 4096 · 00 01 256 · 03 00 3 ·
    07 00 00 00 boot 7 · 10 0e 00 00 3600 s · 00 b9 55 69 1767225600 · 3a 00 58 · identity."""
    info = TimerInfo.from_bytes(INFO)
    assert info.features == (
        Feature.SESSION_CONTROL
        | Feature.PAUSE_RESUME
        | Feature.EVENT_REPLAY
        | Feature.CURRENT_TIME_SERVICE
    )
    assert info.flags == InfoFlags.CLOCK_SET
    assert (info.max_program_length, info.event_capacity, info.unacked_events) == (4096, 256, 3)
    assert (info.boot_id, info.uptime_s, info.clock_s) == (7, 3600, 1_767_225_600)
    assert (info.program_length, info.program_identity) == (58, IDENTITY)
    assert info.boot_time == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert bytes(info) == INFO


def test_session_status() -> None:
    """§13.4: 01 RUNNING · 05 00 step 5 · e2 04 00 00 1250 ms."""
    status = SessionStatusValue.from_bytes(STATUS)
    assert status == SessionStatusValue(SessionState.RUNNING, 5, 1250)
    assert bytes(status) == STATUS


def test_live_event_batch() -> None:
    """§13.5: 04 LIVE · 1c size 28 · boot 7 · seq 41 · 1e b9 55 69 time_s 1767225630 ·
    fa 00 250 ms · 02 STEP_STARTED · 01 CLOCK_SET · 05 00 step 5 · 00 exercise · 01 set ·
    03 00 rep 3 · 00 both · 00 none · a8 61 00 00 25000 ms."""
    batch = EventBatch.from_bytes(BATCH)
    assert batch.flags == BatchFlags.LIVE
    (event,) = batch.events
    assert (event.boot_id, event.seq, event.kind) == (7, 41, EventKind.STEP_STARTED)
    assert (event.step, event.exercise, event.set, event.rep) == (5, 0, 1, 3)
    assert (event.side, event.direction, event.duration_ms) == (Side.BOTH, Direction.NONE, 25000)
    assert event.utc() == datetime(2026, 1, 1, 0, 0, 30, 250_000, tzinfo=UTC)
    assert bytes(batch) == BATCH


def test_clock_values_for_london_summer_time() -> None:
    """§13.6: 00 zone UTC+0 · 04 DST +1 h; ea 07 2026 · 07 July · 01 · 13 19 h · 1e 30 min ·
    0f 15 s · 03 Wednesday · 80 128/256 s · 02 external reference."""
    now = datetime(2026, 7, 1, 19, 30, 15, 500_000, tzinfo=ZoneInfo("Europe/London"))
    local, current = clock_values(now)
    assert bytes(local) == LOCAL_TIME and bytes(current) == CURRENT_TIME
    assert LocalTimeInformation.from_bytes(LOCAL_TIME) == LocalTimeInformation(
        0, DstOffset.DAYLIGHT
    )
    decoded = CurrentTime.from_bytes(CURRENT_TIME)
    assert decoded.adjust_reason == AdjustReason.EXTERNAL_REFERENCE
    assert cts_to_utc(decoded, local) == datetime(2026, 7, 1, 18, 30, 15, 500_000, tzinfo=UTC)
    assert cts_to_utc(decoded, local) == now  # the same instant, seen from London


PROGRAM_PLAN = golden(
    "02 00 05 01 03 04 44 65 6d 6f 09 21 3c 06 02 03 0f 0a 0f 01 01 3c 89 62 75 7a 7a 5f 6c"
    " 6f 6e 67 01 78 0b 03 32 19 32 0a 01 01 01 0a 02 0b 07 05 01 00 03 0b 54 6f 65 20 50 72"
    " 65 73 73 65 73 02 22 50 01 38 04 01 00 03 e0 01 0c 03 38 84"
)
START_ENTRY = golden("09 00 dc 42 7d 39 db a4 64 eb 10 91 a8 b5 00 e9 1b 01")
REMINDER = golden(
    "04 1d 07 00 00 00 2a 00 00 00 80 43 a5 69 00 00 09 01 00 00 00 01 00 00 00 00 00 00 00 00 01"
)


def test_program_with_a_plan() -> None:
    """§13.7: 02 format 2 · cue 4 ``0b 03 32 19 32`` reminder 500/250/500 ms · plan ``02``
    every 2 days · ``22 50`` day 20514 = 2026-03-02 · ``01 38 04`` one time, 1080 = 18:00 ·
    ``01`` one entry · ``00 03`` exercise 0, three slots · ``e0 01`` 08:00 · ``0c 03`` 13:00 ·
    ``38 84`` 18:00 with bit 15, not on routine days."""
    program = WireProgram.from_bytes(PROGRAM_PLAN)
    assert program.format == 2 and len(PROGRAM_PLAN) == 78
    assert program.cues[4] == WireCue("reminder", (500, 250, 500))
    assert program.reminder_cue == 4
    assert program.plan == WirePlan(
        every_days=2,
        first_day=date(2026, 3, 2),
        times=(18 * 60,),
        entries=(WireEntry(0, (WireSlot(480), WireSlot(780), WireSlot(1080, True))),),
    )
    # the exercise records and so the steps are those of the format-1 program of §13.1
    assert program.exercises == WireProgram.from_bytes(PROGRAM).exercises
    assert expand(program) == expand(WireProgram.from_bytes(PROGRAM))
    assert program_crc(PROGRAM_PLAN) == 0x8F4460A3
    assert program_identity(PROGRAM_PLAN).hex() == "00dc427d39dba464eb1091a8b500e91b"
    assert bytes(program) == PROGRAM_PLAN


def test_start_entry() -> None:
    """§13.7: 09 START_ENTRY · 16 identity bytes · 01 entry 1."""
    request = parse_control(START_ENTRY)
    assert request == StartEntry(program_identity(PROGRAM_PLAN), 1)
    assert bytes(request) == START_ENTRY


def test_reminder_event() -> None:
    """§13.7: 04 LIVE · 1d 29-byte records · boot 7 seq 42 · 80 43 a5 69 = 1772438400 ·
    09 REMINDER · 01 CLOCK_SET · step 0, exercise 0, set 1, rep 0 · 01 entry 1."""
    batch = EventBatch.from_bytes(REMINDER)
    assert batch.record_size == 29
    (event,) = batch.events
    assert (event.kind, event.entry, event.step, event.exercise) == (EventKind.REMINDER, 1, 0, 0)
    assert event.utc() == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert bytes(batch) == REMINDER


def test_the_specification_shows_these_fixtures() -> None:
    """Every ``<!-- golden: name -->`` block of docs/protocol.md equals the fixture here."""
    fixtures = {
        "program": PROGRAM,
        "chunk": CHUNK,
        "commit": COMMIT,
        "start": START,
        "info": INFO,
        "status": STATUS,
        "batch": BATCH,
        "ack": ACK,
        "local-time": LOCAL_TIME,
        "current-time": CURRENT_TIME,
        "program-plan": PROGRAM_PLAN,
        "start-entry": START_ENTRY,
        "reminder": REMINDER,
    }
    blocks = dict(
        re.findall(r"<!-- golden: ([\w-]+) -->\s*```\s*\n([0-9a-f ]+)\n```", SPEC.read_text())
    )
    assert set(blocks) == set(fixtures)
    for name, hex_text in blocks.items():
        assert bytes.fromhex(hex_text) == fixtures[name], f"docs/protocol.md golden {name}"
