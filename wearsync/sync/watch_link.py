"""What the Bangle.js and host-timed drivers share: the locked link, program keys, sessions.

- :func:`hold_watch` locks the watch against other wearsync processes, remembers it and marks
  it synced when the block ends with the link still up; the driver connects inside it (no
  pairing: neither kind of watch needs a bond).
- :func:`program_key` is the key a program's events and its push record share, so that
  :meth:`Store.pushed_routine` finds the routine of any stored event (the Bangle.js runner tags
  its events with the first 12 hex digits of the program's content hash; the host-timed driver
  uses the same key).
- :func:`refresh_sessions` re-derives a device's sessions the way
  :func:`~wearsync.sync.sessions.derive_sessions` does, one boot at a time, with one correction
  only the driver can make: it knows whether the watch is running a session *now*. An open
  session the watch is not running (it reset, or the companion that timed it is gone) is
  interrupted, not in progress.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from itertools import groupby
from typing import Final

from wearsync.ble.connection import FoundWatch
from wearsync.paths import data_dir
from wearsync.records import SessionRecord, SessionStatus, utc_now
from wearsync.routine.compiler import TimerProgram
from wearsync.store import Store
from wearsync.sync.lock import watch_lock
from wearsync.sync.programs import ProgramLookup
from wearsync.sync.reports import Progress
from wearsync.sync.sessions import derive_sessions

log = logging.getLogger(__name__)

#: Hex digits of the content hash that name a program in events and push records.
PROGRAM_KEY_DIGITS: Final = 12


def program_key(program: TimerProgram) -> str:
    """The key ``program``'s events and push record are stored under."""
    return program.content_hash[:PROGRAM_KEY_DIGITS]


class HeldWatch:
    """A watch this process holds: whether its link was lost, and who to tell when it is."""

    def __init__(self) -> None:
        self.lost = False
        self._listeners: list[Callable[[], None]] = []

    def on_lost(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` when the link goes down."""
        self._listeners.append(listener)

    def link_lost(self) -> None:
        """The connection's disconnected callback."""
        self.lost = True
        for listener in self._listeners:
            listener()


@asynccontextmanager
async def hold_watch(
    *, store: Store, watch: FoundWatch, progress: Progress, lock_wait: float
) -> AsyncIterator[HeldWatch]:
    """Lock the watch against other processes and remember it; mark it synced at the end.

    Connect inside the block with ``connect(watch, disconnected=held.link_lost)``. The watch
    is marked synced only if the block ends without an error and without a lost link.

    Raises:
        WatchBusyError: another process holds the watch.
    """
    store.remember_device(watch.address, watch.name or watch.address, watch.profile.id)
    held = HeldWatch()
    async with watch_lock(data_dir() / "locks", watch.address, wait=lock_wait):
        progress(f"connecting to {watch.name or watch.address}")
        yield held
    if not held.lost:
        store.mark_synced(watch.address, bonded=False)


def refresh_sessions(store: Store, address: str, *, running_boot: int | None) -> int:
    """Re-derive and save ``address``'s sessions; returns how many it has.

    Args:
        running_boot: the boot in which the watch is running a session right now, or
            ``None`` when it runs none (or cannot be asked). Only that boot's last open
            session stays in progress; every other open session is interrupted.
    """
    lookup = ProgramLookup(store)
    now = utc_now()
    sessions: list[SessionRecord] = []
    events = sorted(store.events(address), key=lambda e: (e.boot_id, e.seq))
    for boot, of_boot in groupby(events, key=lambda e: e.boot_id):
        for session in derive_sessions(list(of_boot), lookup, now=now):
            if session.status is SessionStatus.IN_PROGRESS and boot != running_boot:
                session = session.model_copy(update={"status": SessionStatus.INTERRUPTED})
            sessions.append(session)
    store.save_sessions(sessions)
    return len(sessions)
