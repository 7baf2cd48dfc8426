"""Deriving sessions from completion events, and the history report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wearsync.records import ExerciseStatus, SessionStatus, StoredEvent
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.occurrences import Plan
from wearsync.sync.history import summarize
from wearsync.sync.sessions import derive_sessions

PROGRAM = compile_routine(load_routine("foot-care"))
T0 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def lookup(program_hash: str):  # type: ignore[no-untyped-def]
    return PROGRAM if program_hash == PROGRAM.content_hash else None


class Watch:
    """Writes events the way a watch numbers them: per boot, from seq 0."""

    def __init__(self, device: str = "AA:BB") -> None:
        self.device = device
        self.boot = 1
        self.seq = 0
        self.clock = T0
        self.events: list[StoredEvent] = []

    def emit(self, kind: str, exercise: int = 0, duration_ms: int = 0) -> None:
        self.events.append(
            StoredEvent(
                device=self.device,
                boot_id=self.boot,
                seq=self.seq,
                at=self.clock,
                kind=kind,
                exercise=exercise,
                set=1,
                rep=0,
                side="both",
                duration_ms=duration_ms,
                program_hash=PROGRAM.content_hash,
            )
        )
        self.seq += 1
        self.clock += timedelta(seconds=30)

    def reboot(self) -> None:
        self.boot += 1
        self.seq = 0


def full_session(watch: Watch, skip: int | None = None) -> None:
    for number in range(len(PROGRAM.exercises)):
        watch.emit("step_started", number)
        if number == skip:
            watch.emit("exercise_skipped", number)
        else:
            watch.emit("exercise_completed", number, PROGRAM.exercises[number].active_ms)
    watch.emit("session_completed")


def test_complete_partial_aborted_and_interrupted_sessions() -> None:
    watch = Watch()
    full_session(watch)
    watch.clock += timedelta(days=2)
    full_session(watch, skip=3)
    watch.clock += timedelta(days=2)
    watch.emit("step_started", 0)
    watch.emit("paused")
    watch.emit("resumed")
    watch.emit("session_aborted")
    watch.clock += timedelta(days=1)
    watch.emit("step_started", 0)
    watch.emit("exercise_completed", 0, 50000)
    watch.reboot()  # the watch reset mid-session
    watch.clock += timedelta(days=1)
    watch.emit("step_started", 0)
    sessions = derive_sessions(watch.events, lookup, now=T0)
    assert [s.status for s in sessions] == [
        SessionStatus.COMPLETED,
        SessionStatus.PARTIAL,
        SessionStatus.ABORTED,
        SessionStatus.INTERRUPTED,
        SessionStatus.IN_PROGRESS,
    ]
    assert [e.status for e in sessions[1].exercises].count(ExerciseStatus.SKIPPED) == 1
    assert sessions[1].exercises[3].exercise_id == "resisted-flexion"
    assert sessions[3].exercises[0].status is ExerciseStatus.DONE
    assert sessions[3].exercises[1].status is ExerciseStatus.NOT_REACHED
    assert sessions[4].ended_at is None
    assert (sessions[0].key, sessions[4].key) == ("AA:BB/1/0", "AA:BB/2/0")
    assert len({s.key for s in sessions}) == 5
    # Deriving again from the same events (in any order) gives the same sessions.
    assert derive_sessions(reversed(watch.events), lookup, now=T0) == sessions


def test_a_session_cut_by_a_restart_is_one_aborted_session() -> None:
    """The SESSION_ABORTED a watch records first at its next boot (§8.2) ends the cut session."""
    watch = Watch()
    watch.emit("session_started")
    watch.emit("step_started", 0)
    watch.emit("exercise_completed", 0, 50000)
    watch.emit("step_started", 1)
    watch.reboot()
    watch.emit("session_aborted", 1)
    watch.clock += timedelta(hours=5)
    watch.emit("session_started")
    watch.emit("step_started", 0)
    sessions = derive_sessions(watch.events, lookup, now=T0)
    assert [(s.key, s.status) for s in sessions] == [
        ("AA:BB/1/0", SessionStatus.ABORTED),
        ("AA:BB/2/1", SessionStatus.IN_PROGRESS),
    ]
    cut = sessions[0]
    assert cut.ended_at == watch.events[4].at  # the abort recorded at the next boot
    assert cut.exercises[0].status is ExerciseStatus.DONE
    assert cut.exercises[1].status is ExerciseStatus.NOT_REACHED


def test_an_abort_at_a_boot_with_no_open_session_before_it_stands_alone() -> None:
    """The previous boot's events were lost (or its session ended): the abort is its own."""
    watch = Watch()
    full_session(watch)
    watch.reboot()
    watch.emit("session_aborted", 2)
    sessions = derive_sessions(watch.events, lookup, now=T0)
    assert [(s.key, s.status) for s in sessions] == [
        ("AA:BB/1/0", SessionStatus.COMPLETED),
        ("AA:BB/2/0", SessionStatus.ABORTED),
    ]


def test_unknown_program_still_gives_a_session() -> None:
    watch = Watch()
    full_session(watch)
    sessions = derive_sessions(watch.events, lambda h: None, now=T0)
    assert sessions[0].routine == "unknown"
    assert sessions[0].status is SessionStatus.COMPLETED
    assert len(sessions[0].exercises) == 5


def test_history_counts_adherence_over_30_days() -> None:
    """Eleven routines every 2 days from the first day, then an abort on the twelfth."""
    watch = Watch()
    for _ in range(11):
        full_session(watch)
        watch.clock += timedelta(days=2)
    watch.emit("step_started", 0)
    watch.emit("session_aborted")
    sessions = derive_sessions(watch.events, lookup, now=T0)
    plans = [Plan(load_routine("foot-care"), since=T0 - timedelta(hours=12))]
    now = watch.clock + timedelta(hours=1)
    report = summarize(sessions, plans, first_day=T0.date(), now=now)
    by_entry = {e.entry: (e.done, e.planned) for e in report.entries}
    # days 0..22: 12 routine days; presses 3 a day less one on routine days; walks 2 less one
    assert by_entry == {
        "routine": (11, 12),
        "toe-presses": (0, 23 * 3 - 12),
        "toe-walking": (0, 34),
    }
    assert report.aborted == 1
    assert report.exercises_done == 55
    assert sum(len(d.sessions) for d in report.days) == 12
    # A shorter window sees fewer.
    week = summarize(sessions, plans, first_day=T0.date(), now=watch.clock, window_days=7)
    assert {e.entry: e.planned for e in week.entries}["routine"] == 4
    assert week.done < report.done


def test_acknowledge_only_up_to_the_first_gap() -> None:
    from wearsync.routine.model import Direction, Side
    from wearsync.watches.wearsync_timer.codec import EventKind
    from wearsync.watches.wearsync_timer.codec import EventRecord as Wire
    from wearsync.watches.wearsync_timer.driver import contiguous_end

    def wire(boot: int, seq: int) -> Wire:
        return Wire(
            boot, seq, 0, 0, EventKind.STEP_STARTED, True, 0, 0, 1, 0, Side.BOTH, Direction.NONE, 0
        )

    assert contiguous_end((wire(3, 7), wire(3, 8), wire(3, 9))) == wire(3, 9)
    assert contiguous_end((wire(3, 7), wire(3, 8), wire(3, 10))) == wire(3, 8)
    assert contiguous_end((wire(3, 7), wire(4, 0), wire(4, 1))) == wire(4, 1)
    assert contiguous_end((wire(3, 7), wire(4, 2))) == wire(3, 7)
    assert contiguous_end((wire(5, 40),)) == wire(5, 40)
