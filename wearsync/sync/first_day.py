"""The schedule's first day, one for the calendar, the watch's reminders and adherence.

It is kept in the store under the calendar's setting ``calendar.start.<routine>`` (see
``wearsync.calendar.tokens.schedule_start``); a sync that pushes a schedule to a watch fixes it
on first use, as an export does, so the published events and the reminders fall on the same
days.
"""

from __future__ import annotations

from datetime import date, datetime

from wearsync.routine.model import Routine
from wearsync.store import Store

FIRST_DAY_KEY = "calendar.start.{routine}"
"""The store setting that keeps a routine's first day (the calendar's ``schedule_start``)."""


def kept_first_day(store: Store, routine: str) -> date | None:
    """The first day kept for ``routine``, or None (none yet, or a damaged value)."""
    kept = store.get_setting(FIRST_DAY_KEY.format(routine=routine))
    if kept is None:
        return None
    try:
        return date.fromisoformat(kept)
    except ValueError:
        return None


def fix_first_day(store: Store, routine: Routine, now: datetime) -> date:
    """The kept first day of ``routine``; if none, today in its zone, kept from now on."""
    kept = kept_first_day(store, routine.name)
    if kept is not None:
        return kept
    today = now.astimezone(routine.schedule.zone).date()
    store.set_setting(FIRST_DAY_KEY.format(routine=routine.name), today.isoformat())
    return today
