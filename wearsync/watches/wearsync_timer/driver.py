"""One sync of a routine with a watch: the main job, in the order that loses nothing.

1. Lock the watch against other wearsync processes; connect (retries, backoff), pairing on
   first use and again once if the watch has forgotten the bond.
2. Read Timer Info (one round trip): protocol version, program identity, clock, backlog.
3. Set the clock if it is unset or off by more than 2 s.
4. Read back every unacknowledged event, store them (one transaction, exactly once), and only
   then acknowledge them. Events are read *before* a new program is pushed, so they belong to
   the program the watch reported.
5. Push the compiled program only if the watch's identity differs; an unchanged program costs
   no writes.
6. Re-derive the device's sessions from all its stored events.

No bytes and no bleak here: the watch is reached through :class:`wearsync.ble.TimerClient`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Final, TypeVar

from wearsync.ble.connection import FoundWatch, connect, pair
from wearsync.ble.errors import GattError
from wearsync.paths import data_dir
from wearsync.records import StoredEvent, utc_now
from wearsync.routine.compiler import compile_routine
from wearsync.routine.model import Routine
from wearsync.store import Store
from wearsync.sync.lock import watch_lock
from wearsync.sync.programs import ProgramLookup
from wearsync.sync.reports import Progress, SyncError, SyncReport
from wearsync.sync.sessions import derive_sessions
from wearsync.watches.wearsync_timer.client import TimerClient
from wearsync.watches.wearsync_timer.codec import (
    PROTOCOL_VERSION,
    AttErrorCode,
    EventRecord,
    InfoFlags,
    TimerInfo,
    UnsupportedVersionError,
    encode_program,
    program_identity,
)

if TYPE_CHECKING:
    from wearsync.ble.bumble_backend.central import HciSpec

log = logging.getLogger(__name__)

#: A clock further off than this is set again (docs/protocol.md §12.6).
CLOCK_TOLERANCE_S: Final = 2.0
_SECURITY_CODES: Final = (
    AttErrorCode.INSUFFICIENT_AUTHENTICATION,
    AttErrorCode.INSUFFICIENT_ENCRYPTION,
)

T = TypeVar("T")


class SyncSession:
    """The watch, connected, with the store beside it: what a sync and a live session share."""

    def __init__(
        self, client: TimerClient, store: Store, watch: FoundWatch, *, pair_once: bool = True
    ) -> None:
        self.client = client
        self.store = store
        self.watch = watch
        self.may_pair = pair_once
        self.paired = False

    async def bonded(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work``; if the watch refuses us for want of a bond, pair and run it once more.

        Timer Info is readable without encryption, so a watch that forgot our bond shows it on
        the first protected request (docs/protocol.md §2.3). ``work`` must be safe to repeat.
        """
        try:
            return await work()
        except GattError as exc:
            if exc.code not in _SECURITY_CODES or not self.may_pair:
                raise
        self.may_pair = False
        log.info("%s refused us (no bond); pairing", self.watch.address)
        await pair(self.client.client, address=self.watch.address)
        self.paired = True
        return await work()

    async def read_info(self) -> TimerInfo:
        """Timer Info, checked for a protocol version we speak."""
        try:
            return await self.client.read_info()
        except UnsupportedVersionError as exc:
            raise SyncError(
                f"{self.watch.address}: {exc.message} (this wearsync speaks {PROTOCOL_VERSION})",
                hint="update wearsync or the watch's firmware",
            ) from exc

    async def collect_events(self, info: TimerInfo) -> tuple[int, int, str | None]:
        """Store the backlog, then acknowledge it: ``(received, new, acked_through)``."""
        if info.unacked_events == 0:
            return 0, 0, None
        replay = await self.client.replay(info)
        if not replay.events:
            return 0, 0, None
        received = utc_now()
        identity = info.program_identity.hex()
        stored = [to_stored(e, self.watch.address, identity, info, received) for e in replay.events]
        new = self.store.add_events(stored)  # committed when this returns
        last = contiguous_end(replay.events)
        if last is not replay.events[-1]:
            log.warning(
                "%s: the replay skipped events after %d/%d; acknowledging only up to there",
                self.watch.address,
                last.boot_id,
                last.seq,
            )
        await self.client.ack(last.boot_id, last.seq)
        return len(stored), new, f"{last.boot_id}/{last.seq}"

    async def prepare(
        self, info: TimerInfo, routine: Routine, routine_text: str, wire: bytes, say: Progress
    ) -> tuple[bool, int, int, str | None, bool]:
        """Clock, backlog, program, in that order (see the module docstring).

        Returns:
            ``(clock_set, events_received, events_new, acked_through, program_pushed)``.
        """
        clock_set = False
        now = utc_now().astimezone(routine.schedule.zone)
        if needs_clock(info, now):
            say("setting the watch's clock")
            await self.client.set_clock(now)
            clock_set = True
        say(f"reading back events ({info.unacked_events} waiting)")
        if info.flags & InfoFlags.EVENTS_LOST:
            log.warning(
                "%s: the watch's event log overflowed and dropped its oldest events; "
                "sync more often to keep them all",
                self.watch.address,
            )
        received, new, acked = await self.collect_events(info)
        pushed = await self.ensure_program(info, wire, routine, routine_text, say)
        return clock_set, received, new, acked, pushed

    async def ensure_program(
        self, info: TimerInfo, wire: bytes, routine: Routine, routine_text: str, say: Progress
    ) -> bool:
        """Push ``wire`` unless the watch already runs it; record it either way.

        Returns:
            Whether the program was written.
        """
        identity = program_identity(wire)
        pushed = False
        if info.program_identity != identity:
            if len(wire) > info.max_program_length:
                raise SyncError(
                    f"{self.watch.address}: the program is {len(wire)} bytes, the watch holds "
                    f"at most {info.max_program_length}",
                    hint="shorten the routine or split it into two",
                )
            say(f"pushing the program ({len(wire)} bytes)")
            await self.client.push_program(wire)
            pushed = True
        self.store.record_push(self.watch.address, identity.hex(), routine.name, routine_text)
        return pushed

    def refresh_sessions(self) -> int:
        """Re-derive this watch's sessions from its stored events; returns how many."""
        sessions = derive_sessions(
            self.store.events(self.watch.address), ProgramLookup(self.store), now=utc_now()
        )
        self.store.save_sessions(sessions)
        return len(sessions)


def to_stored(
    event: EventRecord, address: str, identity: str, info: TimerInfo, received: datetime
) -> StoredEvent:
    """Map a wire event to the stored record, placing its time per docs/protocol.md §10.3."""
    boot_time = info.boot_time if info.boot_id == event.boot_id else None
    at = event.utc(boot_time)
    return StoredEvent(
        device=address,
        boot_id=event.boot_id,
        seq=event.seq,
        at=at or received,
        time_known=at is not None,
        kind=event.kind_name,
        exercise=event.exercise,
        set=event.set,
        rep=event.rep,
        side=event.side.value,
        direction=event.direction.value,
        step=event.step,
        duration_ms=event.duration_ms,
        program_hash=identity,
    )


def contiguous_end(events: tuple[EventRecord, ...]) -> EventRecord:
    """The last event before the first gap in ``events`` (sorted by id, non-empty).

    Within a boot, sequence numbers run without gaps, and a new boot starts at 0 (§9.4); a
    replay that skipped some (a dropped notification) must not have them acknowledged, or they
    would be deleted from the watch unstored.
    """
    last = events[0]
    for event in events[1:]:
        same_boot_next = event.boot_id == last.boot_id and event.seq == last.seq + 1
        new_boot_first = event.boot_id != last.boot_id and event.seq == 0
        if not (same_boot_next or new_boot_first):
            break
        last = event
    return last


def needs_clock(info: TimerInfo, now: datetime) -> bool:
    """Whether the watch's clock is unset or off by more than the tolerance."""
    if not info.flags & InfoFlags.CLOCK_SET:
        return True
    return abs(info.clock_s - now.timestamp()) > CLOCK_TOLERANCE_S


@asynccontextmanager
async def open_watch(
    *,
    store: Store,
    watch: FoundWatch,
    hci: HciSpec | None = None,
    progress: Progress | None = None,
    lock_wait: float = 30.0,
) -> AsyncIterator[tuple[SyncSession, TimerInfo, bool]]:
    """Lock, connect, pair if needed, and read Timer Info: ``(session, info, paired)``.

    Pairs on first use (no bond on record), and once more if the watch refuses us with an
    authentication or encryption error (it forgot the bond). Marks the device synced on a
    clean exit.
    """
    say = progress or (lambda _msg: None)
    known = store.device(watch.address)
    first_use = known is None or not known.bonded
    store.remember_device(watch.address, watch.name or watch.address, watch.profile.id)
    holder: list[TimerClient] = []

    def link_lost() -> None:
        for timer in holder:
            timer.link_lost()

    async with watch_lock(data_dir() / "locks", watch.address, wait=lock_wait):
        say(f"connecting to {watch.name or watch.address}")
        async with connect(watch, hci=hci, pair=first_use, disconnected=link_lost) as client:
            timer = TimerClient(client, address=watch.address)
            holder.append(timer)
            session = SyncSession(timer, store, watch, pair_once=not first_use)
            info = await session.read_info()
            yield session, info, first_use
    store.mark_synced(watch.address, bonded=True)


async def sync_watch(
    *,
    store: Store,
    routine: Routine,
    routine_text: str,
    watch: FoundWatch,
    hci: HciSpec | None = None,
    progress: Progress | None = None,
    lock_wait: float = 30.0,
) -> SyncReport:
    """Sync ``routine`` with ``watch`` and read back what was done (see the module docstring).

    Raises:
        WatchBusyError: another process is syncing the watch.
        BleError: the watch could not be reached, or the link was lost (safe to run again).
        SyncError: the watch speaks another protocol version or cannot hold the program.
    """
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    wire = encode_program(compile_routine(routine))
    identity = program_identity(wire)
    async with open_watch(
        store=store, watch=watch, hci=hci, progress=progress, lock_wait=lock_wait
    ) as (session, info, paired):
        clock_set, received, new, acked, pushed = await session.bonded(
            lambda: session.prepare(info, routine, routine_text, wire, say)
        )
        paired = paired or session.paired
        sessions = session.refresh_sessions()
        rejected = session.client.rejected_notifications
    return SyncReport(
        address=watch.address,
        name=watch.name,
        profile=watch.profile.id,
        routine=routine.name,
        program_identity=identity.hex(),
        program_bytes=len(wire),
        program_pushed=pushed,
        paired=paired,
        clock_set=clock_set,
        events_received=received,
        events_new=new,
        acked_through=acked,
        rejected_notifications=rejected,
        sessions=sessions,
        seconds=round(time.monotonic() - started, 3),
    )
