"""Hypothesis strategies for the protocol tests: routines that reach every wire feature, and
wire values built directly."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from hypothesis import strategies as st

from wearsync.protocol.cts import AdjustReason
from wearsync.routine import CUE_SLOTS, CompileOptions, Cue, RangePick, StepKind
from wearsync.routine.model import Direction, Exercise, Range, Routine, Schedule, Side, Span
from wearsync.watches.wearsync_timer.codec import (
    AckEvents,
    BatchFlags,
    Commit,
    CueSlot,
    CurrentTime,
    DstOffset,
    EventBatch,
    EventKind,
    EventRecord,
    Feature,
    InfoFlags,
    LocalTimeInformation,
    ProgramChunk,
    SessionState,
    SessionStatusValue,
    StartSession,
    Timed,
    TimerInfo,
    WireCue,
    WireExercise,
    WireProgram,
)
from wearsync.watches.wearsync_timer.codec.control import (
    AbortStaged,
    ControlRequest,
    PauseSession,
    ReplayEvents,
    ResumeSession,
    StartEntry,
    StopSession,
)
from wearsync.watches.wearsync_timer.codec.plan import WireEntry, WirePlan, WireSlot
from wearsync.watches.wearsync_timer.codec.program import REMINDER_CUE

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)

SIDE_CHOICES = [
    (Side.BOTH,),
    (Side.LEFT,),
    (Side.RIGHT,),
    (Side.LEFT, Side.RIGHT),
    (Side.RIGHT, Side.LEFT),
]
DIRECTION_CHOICES = st.lists(
    st.sampled_from(list(Direction)), min_size=1, max_size=3, unique=True
).map(tuple)
# Millisecond precision as well as whole seconds, so both duration forms of §5.1.2 occur.
seconds = st.one_of(
    st.integers(1, 90).map(float),
    st.integers(1, 90_000).map(lambda ms: ms / 1000),
)
names = st.text(min_size=1, max_size=60).filter(lambda s: s.strip() == s and s)
cue_names = st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)


@st.composite
def cues(draw: st.DrawFn) -> Cue:
    count = draw(st.sampled_from([1, 3, 5, 15]))
    pattern = draw(
        st.lists(
            st.one_of(st.integers(1, 255).map(lambda t: t * 10), st.integers(10, 5000)),
            min_size=count,
            max_size=count,
        )
    )
    return Cue(pattern=tuple(pattern), strength=draw(st.integers(1, 100)))


@st.composite
def spans(draw: st.DrawFn) -> Span:
    form = draw(st.sampled_from(["seconds", "counts", "range"]))
    if form == "seconds":
        return Span(seconds=draw(seconds))
    if form == "counts":
        return Span(counts=draw(st.integers(1, 20)))
    low = draw(seconds)
    return Span(range=Range(min=low, max=low + draw(st.integers(0, 30))))


@st.composite
def exercises(draw: st.DrawFn, ident: str, cue_pool: list[str]) -> Exercise:
    is_hold = draw(st.booleans())
    after = draw(st.one_of(st.none(), spans()))
    overrides = draw(
        st.dictionaries(st.sampled_from(CUE_SLOTS), st.sampled_from(cue_pool), max_size=4)
    )
    return Exercise(
        id=ident,
        name=draw(names),
        hold=draw(spans()) if is_hold else None,
        release=after if is_hold else None,
        work=None if is_hold else draw(spans()),
        rest=None if is_hold else after,
        reps=draw(st.integers(1, 12)),
        sets=draw(st.integers(1, 3)),
        rest_between_sets=draw(st.one_of(st.none(), spans())),
        sides=draw(st.sampled_from(SIDE_CHOICES)),
        directions=draw(DIRECTION_CHOICES),
        cues=overrides,
    )


@st.composite
def routines(draw: st.DrawFn, max_exercises: int = 4) -> Routine:
    own = draw(st.dictionaries(cue_names, cues(), max_size=3))
    cue_pool = sorted(set(CUE_SLOTS) | set(own))
    count = draw(st.integers(1, max_exercises))
    return Routine(
        name="generated",
        title=draw(st.text(min_size=1, max_size=120).filter(lambda s: s.strip() == s and s)),
        count_seconds=draw(st.sampled_from([0.5, 1.0, 1.5, 0.75])),
        transition_seconds=draw(st.integers(0, 30)),
        prepare_seconds=draw(st.sampled_from([0, 2.5, 5])),
        switch_side_seconds=draw(st.integers(0, 10)),
        schedule=Schedule(every_days=Range(min=2, max=3), times=(time(18, 0),)),
        cues=own,
        exercises=tuple(draw(exercises(f"ex-{i}", cue_pool)) for i in range(count)),
    )


@st.composite
def compile_options(draw: st.DrawFn, routine: Routine) -> CompileOptions:
    ids = [ex.id for ex in routine.exercises]
    subset = draw(st.one_of(st.none(), st.lists(st.sampled_from(ids), min_size=1, unique=True)))
    return CompileOptions(
        rest_pick=draw(st.sampled_from(list(RangePick))),
        release_seconds=draw(seconds),
        set_rest_seconds=draw(seconds),
        countdown_seconds=draw(st.integers(0, 10)),
        exercises=None if subset is None else tuple(subset),
    )


def durations() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(1, 600).map(lambda s: s * 1000), st.integers(1, 0x7FFF_FFFF))


@st.composite
def wire_exercises(draw: st.DrawFn, cue_count: int) -> WireExercise:
    sides = draw(st.sampled_from(SIDE_CHOICES))
    sets = draw(st.integers(1, 4))
    after = draw(
        st.one_of(
            st.none(),
            st.builds(Timed, st.sampled_from([StepKind.RELEASE, StepKind.REST]), durations()),
        )
    )
    slots = draw(st.lists(st.sampled_from(list(CueSlot)), unique=True, max_size=4))
    return WireExercise(
        name=draw(st.text(max_size=8)),  # 8 characters of <= 4 bytes fit the 32-byte cap
        effort=draw(st.builds(Timed, st.sampled_from([StepKind.HOLD, StepKind.WORK]), durations())),
        sides=sides,
        directions=draw(DIRECTION_CHOICES),
        sets=sets,
        reps=draw(st.integers(1, 6)),
        lead=draw(
            st.one_of(
                st.none(),
                st.builds(
                    Timed, st.sampled_from([StepKind.PREPARE, StepKind.TRANSITION]), durations()
                ),
            )
        ),
        after=after,
        after_each_direction=after is not None and draw(st.booleans()),
        after_skip_last=after is not None and draw(st.booleans()),
        set_rest_ms=draw(durations()) if sets > 1 else 0,
        switch_ms=draw(durations()) if len(sides) == 2 and draw(st.booleans()) else 0,
        countdown_s=draw(u8),
        cue_overrides=tuple((slot, draw(st.integers(0, cue_count - 1))) for slot in sorted(slots)),
    )


@st.composite
def wire_programs(draw: st.DrawFn) -> WireProgram:
    # Every slot has its well-known cue, so any exercise's slots resolve.
    table = [
        WireCue(slot.cue_name, draw(wire_patterns()), draw(st.integers(1, 100))) for slot in CueSlot
    ]
    custom = draw(st.lists(cue_names.filter(lambda n: n not in CUE_SLOTS), unique=True, max_size=3))
    table += [WireCue(name, draw(wire_patterns())) for name in custom]
    count = draw(st.integers(1, 4))
    plan = draw(st.one_of(st.none(), wire_plans(count)))
    if plan is not None:
        table.append(WireCue(REMINDER_CUE, draw(wire_patterns())))
    return WireProgram(
        title=draw(st.text(max_size=8)),
        cues=tuple(table),
        exercises=tuple(draw(wire_exercises(len(table))) for _ in range(count)),
        end_cue=draw(st.one_of(st.none(), st.integers(0, len(table) - 1))),
        plan=plan,
    )


minutes = st.integers(0, 24 * 60 - 1)


@st.composite
def wire_plans(draw: st.DrawFn, exercise_count: int) -> WirePlan:
    """A plan section (§5.8) for a program of ``exercise_count`` exercises."""
    which = draw(st.lists(st.integers(0, exercise_count - 1), unique=True, max_size=4))
    entries = []
    for exercise in sorted(which):
        slot_minutes = sorted(draw(st.lists(minutes, unique=True, min_size=1, max_size=12)))
        entries.append(
            WireEntry(exercise, tuple(WireSlot(m, draw(st.booleans())) for m in slot_minutes))
        )
    return WirePlan(
        every_days=draw(st.integers(1, 255)),
        first_day=draw(st.dates(date(1970, 1, 1), date(2149, 6, 1))),
        times=tuple(sorted(draw(st.lists(minutes, unique=True, min_size=1, max_size=8)))),
        entries=tuple(entries),
    )


def wire_patterns() -> st.SearchStrategy[tuple[int, ...]]:
    return st.integers(0, 7).flatmap(
        lambda n: st.lists(st.integers(10, 5000), min_size=2 * n + 1, max_size=2 * n + 1).map(tuple)
    )


program_chunks = st.integers(1, 0xFFFF).flatmap(
    lambda total: st.binary(min_size=1, max_size=min(total, 40)).flatmap(
        lambda data: st.integers(0, total - len(data)).map(
            lambda offset: ProgramChunk(total, offset, data)
        )
    )
)

control_requests: st.SearchStrategy[ControlRequest] = st.one_of(
    st.builds(Commit, u32),
    st.just(AbortStaged()),
    st.builds(StartSession, st.binary(min_size=16, max_size=16)),
    st.just(StopSession()),
    st.just(PauseSession()),
    st.just(ResumeSession()),
    st.builds(AckEvents, u32, u32),
    st.just(ReplayEvents()),
    st.builds(StartEntry, st.binary(min_size=16, max_size=16), u8),
)


@st.composite
def timer_infos(draw: st.DrawFn) -> TimerInfo:
    length = draw(u16)
    return TimerInfo(
        features=Feature(draw(u16)),
        flags=InfoFlags(draw(u8)),
        max_program_length=draw(u16),
        event_capacity=draw(u16),
        unacked_events=draw(u16),
        boot_id=draw(u32),
        uptime_s=draw(u32),
        clock_s=draw(u32),
        program_length=length,
        program_identity=draw(st.binary(min_size=16, max_size=16)) if length else bytes(16),
    )


open_states = st.one_of(st.sampled_from(list(SessionState)), u8.map(SessionState))
session_statuses = st.builds(SessionStatusValue, open_states, u16, u32)

event_records = st.builds(
    EventRecord,
    boot_id=u32,
    seq=u32,
    time_s=u32,
    time_ms=st.integers(0, 999),
    kind=st.one_of(st.sampled_from(list(EventKind)), u8.map(EventKind)),
    clock_set=st.booleans(),
    step=u16,
    exercise=u8,
    set=u8,
    rep=u16,
    side=st.sampled_from(list(Side)),
    direction=st.sampled_from(list(Direction)),
    duration_ms=u32,
)
event_records_with_entry = st.builds(lambda e, entry: replace(e, entry=entry), event_records, u8)
event_batches = st.one_of(
    st.builds(
        EventBatch,
        st.integers(0, 7).map(BatchFlags),
        st.lists(event_records, max_size=18).map(tuple),
    ),
    st.builds(
        lambda flags, events: EventBatch(flags, events, record_size=29),
        st.integers(0, 7).map(BatchFlags),
        st.lists(event_records_with_entry, max_size=17).map(tuple),
    ),
)

current_times = st.builds(
    CurrentTime,
    year=st.one_of(st.just(0), st.integers(1582, 9999)),
    month=st.integers(0, 12),
    day=st.integers(0, 31),
    hours=st.integers(0, 23),
    minutes=st.integers(0, 59),
    seconds=st.integers(0, 59),
    day_of_week=st.integers(0, 7),
    fractions256=u8,
    adjust_reason=u8.map(AdjustReason),
)
local_time_infos = st.builds(
    LocalTimeInformation,
    st.one_of(st.integers(-48, 56), st.just(-128)),
    st.one_of(st.sampled_from(list(DstOffset)), u8.map(DstOffset)),
)
