"""Feed sources: where the feed server gets the routine and the sessions from.

- :class:`StaticFeedSource` holds them in memory; whoever owns it calls :meth:`~StaticFeedSource.
  update` when they change (tests, and a daemon that already has the data at hand).
- :class:`RoutineFeedSource` loads a routine by name or file (again when the file changes) and
  reads sessions from anything with ``sessions()`` (the store); ``changes`` is a cheap probe of
  the store (e.g. SQLite's ``PRAGMA data_version``) and :meth:`~RoutineFeedSource.notify` an
  explicit nudge, for a daemon that writes sessions itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from wearsync.calendar.ports import FeedSnapshot, Settings
from wearsync.calendar.tokens import schedule_start
from wearsync.records import SessionRecord, utc_now
from wearsync.routine.loader import load_routine
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import Plan


class SessionReader(Protocol):
    """Anything that lists stored sessions (``wearsync.store.Store`` does)."""

    def sessions(self, since: datetime | None = None) -> list[SessionRecord]:
        """Stored sessions, optionally only those started at or after ``since``."""
        ...


class StaticFeedSource:
    """A routine and sessions held in memory; :meth:`update` replaces them."""

    def __init__(
        self, routine: Routine, sessions: Sequence[SessionRecord] = (), *, start: date
    ) -> None:
        self._snapshot = FeedSnapshot(routine, tuple(sessions), start)
        self._revision = 0

    def revision(self) -> Hashable:
        """Changes on every :meth:`update`."""
        return self._revision

    def snapshot(self) -> FeedSnapshot:
        """The current routine, sessions and start date."""
        return self._snapshot

    def update(
        self,
        *,
        routine: Routine | None = None,
        sessions: Sequence[SessionRecord] | None = None,
        start: date | None = None,
    ) -> None:
        """Replace any of the routine, the sessions and the start date."""
        old = self._snapshot
        self._snapshot = FeedSnapshot(
            routine if routine is not None else old.routine,
            tuple(sessions) if sessions is not None else old.sessions,
            start if start is not None else old.start,
        )
        self._revision += 1


class RoutineFeedSource:
    """A routine by name or file, and its sessions from a store.

    Only sessions of this routine (``SessionRecord.routine == routine.name``) are published. The
    first day of the schedule is kept in ``settings`` (see
    :func:`~wearsync.calendar.tokens.schedule_start`). ``plans``, given by the edge that owns the
    store (``wearsync.sync.history.plans_in_store``), gives the routine's plans over time for
    the done and missed marks; without it the marks follow the current routine.
    """

    def __init__(
        self,
        ref: str | Path,
        store: SessionReader,
        settings: Settings,
        *,
        changes: Callable[[], Hashable] | None = None,
        start: date | None = None,
        clock: Callable[[], datetime] = utc_now,
        plans: Callable[[Routine, datetime], Sequence[Plan]] | None = None,
    ) -> None:
        self._ref = ref
        self._store = store
        self._settings = settings
        self._changes = changes
        self._start = start
        self._clock = clock
        self._plans = plans
        self._nudges = 0
        self._loaded: tuple[Hashable, Routine] | None = None

    def _file_signature(self) -> Hashable:
        path = Path(self._ref)
        try:
            st = os.stat(path)
        except OSError:
            return None  # a built-in name (or a file gone missing: load_routine will say so)
        return (st.st_mtime_ns, st.st_size)

    def revision(self) -> Hashable:
        """The routine file's mtime and size, the store's change probe, and the nudges."""
        probe = self._changes() if self._changes is not None else None
        return (self._file_signature(), probe, self._nudges)

    def notify(self) -> None:
        """Say that sessions changed (for writers the ``changes`` probe cannot see)."""
        self._nudges += 1

    def routine(self) -> Routine:
        """The routine, reloaded when its file changed.

        Raises:
            RoutineError: the routine cannot be loaded.
        """
        signature = self._file_signature()
        if self._loaded is None or self._loaded[0] != signature:
            self._loaded = (signature, load_routine(self._ref))
        return self._loaded[1]

    def snapshot(self) -> FeedSnapshot:
        """The routine, its sessions, and the first day of its schedule."""
        routine = self.routine()
        sessions = [s for s in self._store.sessions() if s.routine == routine.name]
        start = self._start
        now = self._clock()
        if start is None:
            today = now.astimezone(routine.schedule.zone).date()
            start = schedule_start(self._settings, routine.name, today)
        plans = self._plans(routine, now) if self._plans is not None else None
        return FeedSnapshot(routine, sessions, start, plans)
