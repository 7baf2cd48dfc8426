"""Records that cross layers: what the store keeps and the calendar and history show.

These are plain frozen pydantic models with no I/O, so that ``store`` can produce them, and
``calendar`` and ``cli`` can consume them, without depending on each other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class SessionStatus(StrEnum):
    """How a session on the watch ended."""

    COMPLETED = "completed"
    """Every exercise was done."""
    PARTIAL = "partial"
    """The session ended normally but some exercises were skipped."""
    ABORTED = "aborted"
    """The wearer stopped the session."""
    INTERRUPTED = "interrupted"
    """The session stopped without an end event (link lost, watch reset)."""
    IN_PROGRESS = "in_progress"
    """Events so far show a session under way."""


DONE_STATUSES = frozenset({SessionStatus.COMPLETED, SessionStatus.PARTIAL})
"""The statuses of sessions that count for a planned occurrence (adherence, calendar marks)."""


class ExerciseStatus(StrEnum):
    """What happened to one exercise in a session."""

    DONE = "done"
    SKIPPED = "skipped"
    NOT_REACHED = "not_reached"


class ExerciseOutcome(BaseModel):
    """One exercise of a stored session."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: Annotated[int, Field(ge=0)]
    exercise_id: str
    name: str
    status: ExerciseStatus
    duration_ms: Annotated[int, Field(ge=0)] = 0


class SessionRecord(BaseModel):
    """A session derived from a watch's completion events, as stored.

    ``key`` is stable for the same session across re-derivations (device, boot id and the
    sequence number of the session's first event), so exports can derive stable UIDs from it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    device: str
    routine: str
    program_hash: str
    started_at: AwareDatetime
    ended_at: AwareDatetime | None
    status: SessionStatus
    exercises: tuple[ExerciseOutcome, ...] = ()
    updated_at: AwareDatetime
    entry: str = "routine"
    """What the wearer started: ``routine`` (the whole routine, ``ROUTINE_ENTRY`` of
    :mod:`wearsync.routine.occurrences`) or the id of an exercise started on its own."""

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end, or None while no end is known."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class StoredEvent(BaseModel):
    """A completion event read from a watch, as stored (exactly once per device, boot, seq).

    ``kind`` is the event kind's name (``exercise_completed``), or ``unknown_<code>`` for a kind
    this version does not know, so nothing a newer watch sends is lost.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    device: str
    boot_id: Annotated[int, Field(ge=0, lt=2**32)]
    seq: Annotated[int, Field(ge=0, lt=2**32)]
    at: AwareDatetime
    kind: str
    exercise: Annotated[int, Field(ge=0)]
    set: Annotated[int, Field(ge=0)]
    rep: Annotated[int, Field(ge=0)]
    side: str
    duration_ms: Annotated[int, Field(ge=0)]
    program_hash: str = ""
    step: Annotated[int, Field(ge=0)] = 0
    direction: str = "none"
    time_known: bool = True
    """False when the watch's clock was never set for the event's boot: ``at`` is then when
    the companion received it, not when it happened (docs/protocol.md §10.3)."""
    entry: str = "routine"
    """What ran (or, for a reminder, what was reminded of): ``routine`` or an exercise id."""


class DeviceRecord(BaseModel):
    """A wearable wearsync has talked to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str
    name: str
    profile: str
    bonded: bool = False
    last_sync: AwareDatetime | None = None
