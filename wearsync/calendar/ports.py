"""The small interfaces the calendar needs from the rest of wearsync.

The export and the feed server depend on these protocols, not on :mod:`wearsync.store`, so that
they can be tested on their own and wired to whatever owns the database:

- :class:`EventLedger` remembers, per event UID, the fingerprint of what was last published, its
  ``SEQUENCE`` and ``LAST-MODIFIED`` (Google Calendar only shows an edit when both move forward);
- :class:`Settings` is a key/value store (the token of the feed URL, the date the schedule starts
  from); :class:`wearsync.store.Store` satisfies it as it is;
- :class:`FeedSource` gives the feed server the current routine and sessions (and the plans in
  force over time, which the edge reads from the store's push log), and a cheap revision that
  changes whenever they do.

``Store.calendar_ledger()`` implements the first over the store's database (where the SQL lives,
with the other tables and their migrations) and ``Store`` itself the second. ``LedgerEntry`` is
the store's record, re-exported here.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from wearsync.records import SessionRecord
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import Plan
from wearsync.store import LedgerEntry

__all__ = ["EventLedger", "FeedSnapshot", "FeedSource", "LedgerEntry", "Settings"]


class EventLedger(Protocol):
    """Memory of published events across exports (the revision ledger).

    Lookups and writes are in bulk because a feed with years of history holds thousands of
    events and is rebuilt whenever a session arrives.
    """

    def get_many(self, uids: Iterable[str]) -> dict[str, LedgerEntry]:
        """The entries for those of ``uids`` that have one."""
        ...

    def put_many(self, entries: Iterable[LedgerEntry]) -> None:
        """Insert or replace ``entries``, all in one transaction."""
        ...


class Settings(Protocol):
    """A persistent key/value store (``Store.get_setting``/``set_setting`` have this shape)."""

    def get_setting(self, key: str) -> str | None:
        """The value of ``key``, or None."""
        ...

    def set_setting(self, key: str, value: str) -> None:
        """Set ``key`` to ``value`` durably."""
        ...


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    """What a feed is built from.

    Attributes:
        routine: the routine whose schedule is published.
        sessions: stored sessions to show as history (any order; other routines' sessions are
            the source's business to leave out or keep).
        start: the date the schedule's recurrences start from (the first full-routine day).
        plans: the routine as in force over time, oldest first, for the done and missed marks
            (``build_calendar``'s ``plans``); None: the routine from ``start`` on.
    """

    routine: Routine
    sessions: Sequence[SessionRecord]
    start: date
    plans: Sequence[Plan] | None = None


class FeedSource(Protocol):
    """Gives the feed server the current routine and sessions."""

    def revision(self) -> Hashable:
        """A cheap value that changes whenever :meth:`snapshot` would return something new.

        Called on every request, so it must not load the sessions; the server rebuilds the
        calendar only when it changes (or when the server's ``invalidate()`` is called).
        """
        ...

    def snapshot(self) -> FeedSnapshot:
        """The routine, the sessions and the start date, as they are now."""
        ...
