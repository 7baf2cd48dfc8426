"""What the pages are rendered from: the routine, the sessions a page needs, and the watches.

The pages are pure functions of a :class:`PageData`. :mod:`wearsync.web.pages` fills one from a
:class:`PageSource` with only the sessions the page shows (none for the routine, the last weeks
for adherence, the last 90 days for history, all for the CSV), so that a page's cost does not
grow with years of history. :class:`StorePageSource` is the source ``wearsync serve`` uses.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from wearsync.calendar.sources import RoutineFeedSource
from wearsync.calendar.tokens import schedule_start
from wearsync.records import DeviceRecord, SessionRecord
from wearsync.routine.compiler import TimerProgram
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import Plan
from wearsync.store import Store
from wearsync.sync.history import plans_in_store


@dataclass(frozen=True, slots=True)
class PageData:
    """Everything a page shows.

    Attributes:
        routine: the routine as it is now.
        program: the routine compiled (times per exercise and in total).
        sessions: the routine's stored sessions the page needs (see the module), any order.
        devices: the watches wearsync knows, by address.
        start: the first day of the published schedule.
        plans: the routine as pushed over time, oldest first (what adherence counts against).
        first_day: the first day adherence counts from.
        now: the time the pages are rendered at (aware).
        feed_url: the calendar's secret http:// URL (for the subscribe page).
    """

    routine: Routine
    program: TimerProgram
    sessions: Sequence[SessionRecord]
    devices: Mapping[str, DeviceRecord]
    start: date
    plans: Sequence[Plan]
    first_day: date
    now: datetime
    feed_url: str

    def watch_name(self, address: str) -> str:
        """The watch's name, or its address when wearsync never learnt one."""
        device = self.devices.get(address)
        return device.name if device is not None and device.name else address


class PageSource(Protocol):
    """Where the pages get the routine, its first day, sessions and watches from."""

    def revision(self) -> Hashable:
        """A cheap value that changes whenever anything below would (called per request)."""
        ...

    def routine(self) -> Routine:
        """The routine as it is now."""
        ...

    def first_day(self, today: date) -> date:
        """The first day of the published schedule (``today`` if none was fixed yet)."""
        ...

    def sessions(self, since: datetime | None) -> Sequence[SessionRecord]:
        """The routine's sessions started at or after ``since`` (all with None)."""
        ...

    def plans(self, now: datetime) -> tuple[date, Sequence[Plan]]:
        """Adherence's first day and the routine's plans over time (as ``wearsync history``)."""
        ...

    def devices(self) -> Sequence[DeviceRecord]:
        """The watches wearsync knows."""
        ...


class StorePageSource:
    """The feed's routine source and the store: what the feed publishes, the pages show.

    Args:
        feed: the feed server's source (its routine and its revision, which follows the store).
        store: the database (sessions, watches, the schedule's first day).
    """

    def __init__(self, feed: RoutineFeedSource, store: Store) -> None:
        self._feed = feed
        self._store = store

    def revision(self) -> Hashable:
        """The feed source's revision."""
        return self._feed.revision()

    def routine(self) -> Routine:
        """The feed's routine."""
        return self._feed.routine()

    def first_day(self, today: date) -> date:
        """The day the calendar's schedule counts from (the same setting the feed uses)."""
        return schedule_start(self._store, self.routine().name, today)

    def sessions(self, since: datetime | None) -> Sequence[SessionRecord]:
        """The routine's stored sessions from ``since``, and those whose program is unknown
        (as ``wearsync history`` counts them)."""
        names = (self.routine().name, "unknown")
        return [s for s in self._store.sessions(since) if s.routine in names]

    def plans(self, now: datetime) -> tuple[date, Sequence[Plan]]:
        """:func:`wearsync.sync.history.plans_in_store` for the current routine."""
        return plans_in_store(self._store, self.routine(), now=now)

    def devices(self) -> Sequence[DeviceRecord]:
        """The store's watches."""
        return self._store.devices()
