"""Sessions, routines and parsing helpers shared by the calendar tests."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import icalendar

from wearsync.records import ExerciseOutcome, ExerciseStatus, SessionRecord, SessionStatus
from wearsync.routine import Routine, load_routine
from wearsync.routine.loader import builtin_text, parse_routine

DEVICE = "C0:FF:EE:00:00:01"


def foot_care() -> Routine:
    return load_routine("foot-care")


def foot_care_with(old: str, new: str) -> Routine:
    """The foot routine with one piece of its TOML text replaced (to make a changed routine)."""
    text = builtin_text("foot-care")
    assert old in text, old
    return parse_routine(text.replace(old, new, 1), "changed")


def session(
    started_at: datetime,
    *,
    status: SessionStatus = SessionStatus.COMPLETED,
    minutes: float = 10,
    key: str | None = None,
    skipped: tuple[str, ...] = (),
    routine: Routine | None = None,
    device: str = DEVICE,
) -> SessionRecord:
    """A stored session of the foot routine starting at ``started_at``."""
    r = routine or foot_care()
    ended = None if status is SessionStatus.IN_PROGRESS else started_at + timedelta(minutes=minutes)
    outcomes = tuple(
        ExerciseOutcome(
            index=i,
            exercise_id=ex.id,
            name=ex.name,
            status=ExerciseStatus.SKIPPED if ex.id in skipped else ExerciseStatus.DONE,
            duration_ms=0 if ex.id in skipped else 60_000,
        )
        for i, ex in enumerate(r.exercises)
    )
    return SessionRecord(
        key=key or f"{device}/7/{int(started_at.timestamp())}",
        device=device,
        routine=r.name,
        program_hash="ab" * 32,
        started_at=started_at,
        ended_at=ended,
        status=status,
        exercises=outcomes,
        updated_at=(ended or started_at) + timedelta(seconds=5),
    )


def many_sessions(
    count: int, *, until: datetime, years: float = 5, seed: int = 5
) -> list[SessionRecord]:
    """``count`` sessions spread over the ``years`` before ``until``, mixed statuses."""
    rng = random.Random(seed)
    span = timedelta(days=365 * years)
    step = span / count
    statuses = [SessionStatus.COMPLETED] * 6 + [SessionStatus.PARTIAL, SessionStatus.ABORTED]
    out = []
    for i in range(count):
        at = (until - span + step * i + timedelta(minutes=rng.randint(0, 30))).replace(
            microsecond=0
        )
        status = rng.choice(statuses)
        skipped = ("toe-walking",) if status is SessionStatus.PARTIAL else ()
        out.append(session(at, status=status, skipped=skipped, key=f"{DEVICE}/{i // 500}/{i}"))
    return out


def parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def events(body: bytes) -> dict[str, icalendar.Event]:
    """UID -> VEVENT of a calendar (overrides left out), checking that UIDs are unique."""
    found = [e for e in parse(body).walk("VEVENT") if "RECURRENCE-ID" not in e]
    by_uid = {str(e["UID"]): e for e in found}
    assert len(by_uid) == len(found), "UIDs must be unique"
    return by_uid


def overrides(body: bytes) -> dict[tuple[str, datetime], icalendar.Event]:
    """(UID, RECURRENCE-ID in UTC) -> the VEVENT overriding that instance, checking that each
    overrides an instance of an event of the calendar, once."""
    masters = events(body)
    found = [e for e in parse(body).walk("VEVENT") if "RECURRENCE-ID" in e]
    by_key = {(str(e["UID"]), e["RECURRENCE-ID"].dt.astimezone(UTC)): e for e in found}
    assert len(by_key) == len(found), "an instance is overridden twice"
    assert all(uid in masters for uid, _ in by_key), "an override of no published event"
    return by_key


def content_lines(body: bytes) -> Iterator[bytes]:
    assert body.endswith(b"\r\n")
    yield from body[:-2].split(b"\r\n")


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
