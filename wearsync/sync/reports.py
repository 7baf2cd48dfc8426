"""The results every driver returns, and the errors and callbacks they share.

:class:`SyncReport` is the result model of ``wearsync sync``, :class:`SessionReport` that of
``wearsync session``; both are built in one place (:mod:`wearsync.sync.driver`) from what a
driver says it did.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from wearsync.errors import WearSyncError

#: A progress callback: one short message per step of a sync ("pushing the program").
Progress = Callable[[str], None]


def quiet(_message: str) -> None:
    """A progress callback that shows nothing."""


class SyncError(WearSyncError):
    """The watch and this companion cannot agree (version, size); retrying will not help."""


class SyncReport(BaseModel):
    """What a sync did: the result model of ``wearsync sync``."""

    address: str
    name: str
    profile: str
    routine: str
    program_identity: str
    program_bytes: int
    program_pushed: bool
    paired: bool
    clock_set: bool
    events_received: int
    events_new: int
    acked_through: str | None
    rejected_notifications: int
    sessions: int
    seconds: float
    warnings: list[str] = []
    """What was skipped or looks wrong (a damaged file, a workout over the step limit)."""


class SessionReport(BaseModel):
    """The result of ``wearsync session``."""

    address: str
    routine: str
    program_pushed: bool
    ended: str
    steps_seen: int
    events_seen: int
    events_new: int
    sessions: int
