"""What the pages are rendered from: one snapshot of the routine, its sessions and the watches.

The pages are pure functions of a :class:`PageData`; :mod:`wearsync.web.pages` builds one per
change of the store (or per minute, as the next occurrences move) and hands it to each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from wearsync.records import DeviceRecord, SessionRecord
from wearsync.routine.compiler import TimerProgram
from wearsync.routine.model import Routine


@dataclass(frozen=True, slots=True)
class PageData:
    """Everything a page shows.

    Attributes:
        routine: the routine as it is now.
        program: the routine compiled (times per exercise and in total).
        sessions: the routine's stored sessions, any order.
        devices: the watches wearsync knows, by address.
        start: the first day of the published schedule.
        now: the time the pages are rendered at (aware).
        feed_url: the calendar's secret http:// URL (for the subscribe page).
    """

    routine: Routine
    program: TimerProgram
    sessions: Sequence[SessionRecord]
    devices: Mapping[str, DeviceRecord]
    start: date
    now: datetime
    feed_url: str

    def watch_name(self, address: str) -> str:
        """The watch's name, or its address when wearsync never learnt one."""
        device = self.devices.get(address)
        return device.name if device is not None and device.name else address
