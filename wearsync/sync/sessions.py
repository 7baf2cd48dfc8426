"""Sessions derived from a watch's completion events.

The watch reports what happened as a stream of events per boot (``step_started``,
``exercise_completed``, ``exercise_skipped``, ``paused``, ``resumed``, ``session_completed``,
``session_aborted``). A session is the run of events from the first one after the previous
session's end up to ``session_completed`` or ``session_aborted``; ``reminder`` events, which a
watch records between sessions, belong to none. A session of an entry (one exercise started on
its own) lists that exercise only and carries the entry. A session still open when the
watch reboots, or when the stream has newer sessions after it, was *interrupted*; the last open
session of the newest boot is *in progress*. A session cut by a restart ends with the
SESSION_ABORTED the watch records at its next boot (docs/protocol.md §8.2): one aborted session.

This module is pure: events in, :class:`~wearsync.records.SessionRecord` out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from wearsync.records import (
    ExerciseOutcome,
    ExerciseStatus,
    SessionRecord,
    SessionStatus,
    StoredEvent,
)
from wearsync.routine.compiler import TimerProgram
from wearsync.routine.occurrences import ROUTINE_ENTRY

END_KINDS = frozenset({"session_completed", "session_aborted"})

#: Resolves a program hash (as the watch reports it) to the program, or None if unknown.
ProgramLookup = Callable[[str], TimerProgram | None]


@dataclass
class _Open:
    first: StoredEvent
    last: StoredEvent
    outcomes: dict[int, tuple[ExerciseStatus, int]] = field(default_factory=dict)
    end_kind: str | None = None


def derive_sessions(
    events: Iterable[StoredEvent], programs: ProgramLookup, *, now: datetime
) -> list[SessionRecord]:
    """Group ``events`` (any devices, any order) into sessions, oldest first.

    Args:
        events: stored completion events.
        programs: finds the program an event's ``program_hash`` names, for exercise names.
        now: stamped as ``updated_at``; the store keeps the old stamp when nothing changed.
    """
    ordered = sorted(events, key=lambda e: (e.device, e.boot_id, e.seq))
    sessions: list[SessionRecord] = []
    for _device, of_device in groupby(ordered, key=lambda e: e.device):
        boots = [list(evs) for _boot, evs in groupby(of_device, key=lambda e: e.boot_id)]
        found: list[_Open] = []
        carried: _Open | None = None
        for boot_events in boots:
            opened = _sessions_of_boot(boot_events, carried)
            found.extend(opened)
            carried = opened[-1] if opened and opened[-1].end_kind is None else None
        newest = boots[-1][0].boot_id if boots else None
        for index, session in enumerate(found):
            still_running = index == len(found) - 1 and session.first.boot_id == newest
            sessions.append(_record(session, still_running, programs, now))
    sessions.sort(key=lambda s: (s.started_at, s.key))
    return sessions


def _sessions_of_boot(events: list[StoredEvent], carried: _Open | None) -> list[_Open]:
    """The sessions one boot's events open, in order.

    ``carried`` is the previous boot's last session if it was still open. A watch that
    restarts during a session records SESSION_ABORTED first thing at the next boot
    (docs/protocol.md §8.2): that event ends the carried session (same program) rather than
    opening one of its own, so one cut session is one aborted session, not an interrupted
    one and an aborted one.
    """
    found: list[_Open] = []
    current: _Open | None = None
    for event in events:
        if event.kind == "reminder":
            continue  # a reminder happens between sessions, and is not part of one
        if (
            current is None
            and carried is not None
            and event.kind == "session_aborted"
            and event.program_hash == carried.first.program_hash
        ):
            current = carried
        carried = None  # only the boot's first event may end it
        if current is None or current.end_kind is not None:
            current = _Open(first=event, last=event)
            found.append(current)
        current.last = event
        if event.kind == "exercise_completed":
            current.outcomes[event.exercise] = (ExerciseStatus.DONE, event.duration_ms)
        elif event.kind == "exercise_skipped":
            current.outcomes[event.exercise] = (ExerciseStatus.SKIPPED, event.duration_ms)
        elif event.kind in END_KINDS:
            current.end_kind = event.kind
    return found


def _record(
    session: _Open, still_running: bool, programs: ProgramLookup, now: datetime
) -> SessionRecord:
    first = session.first
    program = programs(first.program_hash)
    skipped = any(status is ExerciseStatus.SKIPPED for status, _ in session.outcomes.values())
    if session.end_kind == "session_completed":
        status = SessionStatus.PARTIAL if skipped else SessionStatus.COMPLETED
    elif session.end_kind == "session_aborted":
        status = SessionStatus.ABORTED
    elif still_running:
        status = SessionStatus.IN_PROGRESS
    else:
        status = SessionStatus.INTERRUPTED
    count = len(program.exercises) if program is not None else max(session.outcomes, default=-1) + 1
    exercises = []
    indices: list[int] = list(range(count))
    if first.entry != ROUTINE_ENTRY and program is not None:
        # an entry runs one exercise (docs/protocol.md §5.8): the others were never planned
        indices = [i for i, ex in enumerate(program.exercises) if ex.id == first.entry] or indices
    for index in indices:
        done, duration = session.outcomes.get(index, (ExerciseStatus.NOT_REACHED, 0))
        ident, name = (
            (program.exercises[index].id, program.exercises[index].name)
            if program is not None and index < len(program.exercises)
            else (f"exercise-{index + 1}", f"Exercise {index + 1}")
        )
        exercises.append(
            ExerciseOutcome(
                index=index, exercise_id=ident, name=name, status=done, duration_ms=duration
            )
        )
    ended = None if still_running and session.end_kind is None else session.last.at
    return SessionRecord(
        key=f"{first.device}/{first.boot_id}/{first.seq}",
        device=first.device,
        routine=program.routine if program is not None else "unknown",
        program_hash=first.program_hash,
        started_at=first.at,
        ended_at=ended,
        status=status,
        exercises=tuple(exercises),
        updated_at=now,
        entry=first.entry,
    )
