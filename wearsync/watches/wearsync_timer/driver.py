"""The timer-service driver: one sync or live session, in the order that loses nothing.

1. Connect (retries, backoff), pairing on first use and again once if the watch has forgotten
   the bond (the lock and the device record are :meth:`~wearsync.sync.driver.Driver.sync`'s).
2. Read Timer Info (one round trip): protocol version, features, program identity, clock,
   backlog. A feature whose bit is clear is never used (docs/protocol.md §3.2).
3. Set the clock if it is unset or off by more than 2 s (feature CURRENT_TIME_SERVICE, and the
   profile's ``set_clock``). A watch with ENTRIES reminds the wearer on local time, so it gets
   Local Time Information at every sync (a Write Command: no round trip), and a DST change
   reaches it at the next sync (docs/protocol.md §5.9, §12.8).
4. Read back every unacknowledged event, store them (one transaction, exactly once), and only
   then acknowledge them, up to the first gap. Events are read *before* a new program is
   pushed, so they belong to the program the watch reported.
5. Push the compiled program only if the watch's identity differs; an unchanged program costs
   no writes. A watch with ENTRIES gets format 2: the program with its entries and schedule
   from the schedule's first day (:func:`wanted_program`); any other, format 1.

No bytes and no bleak here: the watch is reached through :class:`~.client.TimerClient`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import date, datetime
from typing import Final, Literal, TypeVar

from wearsync.ble.connection import bond_ltk, connect, pair
from wearsync.ble.errors import GattError
from wearsync.errors import RoutineError
from wearsync.profiles import DriverSettings
from wearsync.protocol.errors import DecodeError
from wearsync.records import StoredEvent, utc_now
from wearsync.routine.loader import parse_routine
from wearsync.routine.occurrences import ROUTINE_ENTRY, entry_ids
from wearsync.sync.driver import (
    Capabilities,
    Collected,
    Driver,
    HeldWatch,
    SessionOptions,
    SessionOutcome,
    SessionStartError,
    SyncContext,
    SyncOutcome,
    hold_watch,
)
from wearsync.sync.first_day import fix_first_day, kept_first_day
from wearsync.sync.reports import SyncError
from wearsync.watches.wearsync_timer.client import TimerClient
from wearsync.watches.wearsync_timer.codec import (
    PROTOCOL_VERSION,
    AttErrorCode,
    EventRecord,
    Feature,
    InfoFlags,
    TimerInfo,
    UnsupportedVersionError,
    encode_program,
    program_identity,
)
from wearsync.watches.wearsync_timer.codec.beacon import (
    BEACON_COMPANY_ID,
    StateBeacon,
    beacon_key,
    candidate_states,
    open_beacon,
)
from wearsync.watches.wearsync_timer.codec.encode import wire_plan

log = logging.getLogger(__name__)

#: A clock further off than this is set again (docs/protocol.md §12.6).
CLOCK_TOLERANCE_S: Final = 2.0
_SECURITY_CODES: Final = (
    AttErrorCode.INSUFFICIENT_AUTHENTICATION,
    AttErrorCode.INSUFFICIENT_ENCRYPTION,
)
T = TypeVar("T")


class TimerSettings(DriverSettings):
    """The ``[driver]`` table of a ``wearsync-timer`` profile."""

    name: Literal["wearsync-timer"]
    protocol_version: Literal[1] = PROTOCOL_VERSION
    set_clock: bool = True
    """Keep the watch's clock through the Current Time Service."""


class TimerLink:
    """The watch, connected, with the store beside it: what a sync and a live session share."""

    def __init__(
        self,
        client: TimerClient,
        ctx: SyncContext,
        settings: TimerSettings,
        *,
        pair_once: bool = True,
    ) -> None:
        self.client = client
        self.ctx = ctx
        self.settings = settings
        self.may_pair = pair_once
        self.paired = False

    @property
    def address(self) -> str:
        """The watch's address."""
        return self.ctx.address

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
        log.info("%s refused us (no bond); pairing", self.address)
        await pair(self.client.client, address=self.address)
        self.paired = True
        return await work()

    async def read_info(self) -> TimerInfo:
        """Timer Info, checked for a protocol version we speak."""
        try:
            return await self.client.read_info()
        except UnsupportedVersionError as exc:
            raise SyncError(
                f"{self.address}: {exc.message} (this wearsync speaks {PROTOCOL_VERSION})",
                hint="update wearsync or the watch's firmware",
            ) from exc

    async def collect_events(self, info: TimerInfo) -> Collected:
        """Store the backlog, then acknowledge it (§12.3, or §9.5.1 without EVENT_REPLAY)."""
        if info.unacked_events == 0:
            return Collected()
        replay = await self.client.replay(info)
        if not replay.events:
            return Collected()
        received = utc_now()
        identity = info.program_identity.hex()
        names = entry_names(self.ctx, identity)
        stored = [
            to_stored(e, self.address, identity, info, received, names) for e in replay.events
        ]
        new = self.ctx.store.add_events(stored)  # committed when this returns
        last = contiguous_end(replay.events)
        if last is not replay.events[-1]:
            log.warning(
                "%s: the replay skipped events after %d/%d; acknowledging only up to there",
                self.address,
                last.boot_id,
                last.seq,
            )
        await self.client.ack(last.boot_id, last.seq)
        return Collected(len(stored), new, f"{last.boot_id}/{last.seq}")

    def wants_clock(self, info: TimerInfo) -> bool:
        """Whether to set the clock now: allowed by the profile and the watch, and needed."""
        if not self.settings.set_clock or not info.features & Feature.CURRENT_TIME_SERVICE:
            return False
        return needs_clock(info, utc_now())

    async def prepare(self, info: TimerInfo, wire: bytes) -> tuple[bool, Collected, bool]:
        """Clock, backlog, program, in that order (see the module docstring).

        Returns:
            ``(clock_set, collected, program_pushed)``.
        """
        say = self.ctx.progress
        clock_set = False
        zone = self.ctx.routine.schedule.zone
        if self.wants_clock(info):
            say("setting the watch's clock")
            await self.client.set_clock(utc_now().astimezone(zone))
            clock_set = True
        elif self.settings.set_clock and info.features & Feature.ENTRIES:
            await self.client.set_local_time(utc_now().astimezone(zone))
        say(f"reading back events ({info.unacked_events} waiting)")
        if info.flags & InfoFlags.EVENTS_LOST:
            log.warning(
                "%s: the watch's event log overflowed and dropped its oldest events; "
                "sync more often to keep them all",
                self.address,
            )
        collected = await self.collect_events(info)
        pushed = await self.ensure_program(info, wire)
        return clock_set, collected, pushed

    async def ensure_program(self, info: TimerInfo, wire: bytes) -> bool:
        """Push ``wire`` unless the watch already runs it; record it either way.

        Returns:
            Whether the program was written.
        """
        identity = program_identity(wire)
        pushed = False
        if info.program_identity != identity:
            if len(wire) > info.max_program_length:
                raise SyncError(
                    f"{self.address}: the program is {len(wire)} bytes, the watch holds "
                    f"at most {info.max_program_length}",
                    hint="shorten the routine or split it into two",
                )
            self.ctx.progress(f"pushing the program ({len(wire)} bytes)")
            await self.client.push_program(wire)
            pushed = True
        ctx = self.ctx
        ctx.store.record_push(self.address, identity.hex(), ctx.routine.name, ctx.routine_text)
        return pushed


def wanted_program(ctx: SyncContext, info: TimerInfo) -> bytes:
    """The program bytes for this watch: format 2 with entries and schedule if it has
    ENTRIES (and a clock), else format 1 (docs/protocol.md §3.4)."""
    if not _has_entries(info):
        return encode_program(ctx.program)
    return _with_plan(ctx, fix_first_day(ctx.store, ctx.routine, utc_now()))


def _with_plan(ctx: SyncContext, first_day: date) -> bytes:
    """The format-2 program: the routine's plan from ``first_day`` (§5.8)."""
    return encode_program(ctx.program, wire_plan(ctx.routine, ctx.program, first_day))


def program_identities(ctx: SyncContext) -> list[bytes]:
    """The identities the program may have on the watch, without asking it (§14.4): format 1,
    and format 2 with the kept first day (a watch with ENTRIES holds that one). A watch's
    beacon carrying either one has this routine, as :func:`wanted_program` built it."""
    found = [program_identity(encode_program(ctx.program))]
    first = kept_first_day(ctx.store, ctx.routine.name)
    if first is not None:
        found.append(program_identity(_with_plan(ctx, first)))
    return found


def _has_entries(info: TimerInfo) -> bool:
    wanted = Feature.ENTRIES | Feature.CURRENT_TIME_SERVICE
    return info.features & wanted == wanted


def entry_names(ctx: SyncContext, identity: str) -> tuple[str, ...]:
    """Entry ids by wire number (0 the routine) of the program with ``identity``: the routine
    pushed with it, else the routine being synced."""
    routine = ctx.routine
    pushed = ctx.store.pushed_routine(identity)
    if pushed is not None:
        with suppress(RoutineError):
            routine = parse_routine(pushed[1], source="pushed routine")
    return entry_ids(routine)


def to_stored(
    event: EventRecord,
    address: str,
    identity: str,
    info: TimerInfo,
    received: datetime,
    entries: tuple[str, ...] = (ROUTINE_ENTRY,),
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
        entry=entries[event.entry] if event.entry < len(entries) else f"entry-{event.entry}",
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


def _entry_number(ctx: SyncContext, info: TimerInfo, entry: str | None) -> int:
    """The wire number of ``entry`` (None: the routine, 0).

    Raises:
        SessionStartError: the watch has no entries, or the routine has no such entry.
    """
    if entry is None or entry == ROUTINE_ENTRY:
        return 0
    names = entry_ids(ctx.routine)
    if entry not in names:
        raise SessionStartError(
            f"{ctx.routine.name} has no entry {entry!r}",
            hint=f"entries: {', '.join(names)} (exercises done several times a day)",
        )
    if not _has_entries(info):
        raise SessionStartError(
            f"{ctx.watch.name or ctx.address} cannot start an exercise on its own "
            "(its Timer Info lacks ENTRIES)",
            hint="start the whole routine, or update the watch's firmware",
        )
    return names.index(entry)


def needs_clock(info: TimerInfo, now: datetime) -> bool:
    """Whether the watch's clock is unset or off by more than the tolerance."""
    if not info.flags & InfoFlags.CLOCK_SET:
        return True
    return abs(info.clock_s - now.timestamp()) > CLOCK_TOLERANCE_S


@asynccontextmanager
async def open_watch(ctx: SyncContext) -> AsyncIterator[tuple[TimerLink, TimerInfo, bool]]:
    """Lock, connect, pair if needed and read Timer Info: ``(link, info, paired)``.

    For tools and tests that drive the service's procedures themselves (the benchmarks, the
    firmware's conformance tests); a sync goes through :meth:`TimerDriver.sync`.
    """
    driver = TimerDriver(TimerSettings(name="wearsync-timer"))
    async with hold_watch(ctx) as held, driver.connected(ctx, held) as opened:
        yield opened


class TimerDriver(Driver):
    """Watches with the WearSync Interval Timer Service (docs/protocol.md)."""

    name = "wearsync-timer"
    capabilities = Capabilities(
        cues="watch",
        start_from_companion=True,
        start_on_watch=True,
        event_readback=True,
        clock=True,
    )

    def __init__(self, settings: TimerSettings) -> None:
        self.settings = settings

    @asynccontextmanager
    async def connected(
        self, ctx: SyncContext, held: HeldWatch
    ) -> AsyncIterator[tuple[TimerLink, TimerInfo, bool]]:
        """Connect, pair if needed, and read Timer Info: ``(link, info, paired)``.

        Pairs on first use (no bond on record), and once more if the watch refuses us with an
        authentication or encryption error (it forgot the bond).
        """
        known = ctx.store.device(ctx.address)
        first_use = known is None or not known.bonded
        holder: list[TimerClient] = []

        def link_lost() -> None:
            held.link_lost()
            for timer in holder:
                timer.link_lost()

        async with connect(ctx.watch, hci=ctx.hci, pair=first_use, disconnected=link_lost) as c:
            timer = TimerClient(c, address=ctx.address)
            holder.append(timer)
            link = TimerLink(timer, ctx, self.settings, pair_once=not first_use)
            yield link, await link.read_info(), first_use

    async def needs_sync(self, ctx: SyncContext) -> str | None:
        """What the state beacon says (docs/protocol.md §14.4), without connecting."""
        data = ctx.watch.manufacturer_data.get(BEACON_COMPANY_ID)
        if data is None:
            return "no state beacon"
        try:
            beacon = StateBeacon.from_bytes(data)
        except DecodeError:
            return "state beacon unreadable"
        ltk = await bond_ltk(ctx.address, hci=ctx.hci)
        if ltk is None:
            return "no bond key to read the state beacon"
        wanted = program_identities(ctx)
        state = open_beacon(beacon_key(ltk), beacon, candidate_states([*wanted, bytes(16)]))
        if state is None:
            return "state beacon undecodable (another program, or the bond changed)"
        if state.program_identity not in wanted:
            return "the watch has no program"
        if state.events_waiting:
            return "events are waiting"
        if not state.clock_set:
            return "the watch's clock is not set"
        return None

    async def exchange(self, ctx: SyncContext, held: HeldWatch) -> SyncOutcome:
        """One sync (see the module docstring)."""
        async with self.connected(ctx, held) as (link, info, paired):
            wire = wanted_program(ctx, info)
            clock_set, collected, pushed = await link.bonded(lambda: link.prepare(info, wire))
            protected = pushed or clock_set or collected.received or paired or link.paired
            if (
                not protected
                and Feature.STATE_BEACON in info.features
                and BEACON_COMPANY_ID not in ctx.watch.manufacturer_data
            ):
                # It advertised no beacon, so it may hold no bond with us (§14.2), and this sync
                # asked nothing protected. One protected read pairs if it must, so the watch can
                # key its beacon again.
                await link.bonded(link.client.read_status)
            return SyncOutcome(
                program_identity=program_identity(wire).hex(),
                program_bytes=len(wire),
                program_pushed=pushed,
                paired=paired or link.paired,
                bonded=True,
                clock_set=clock_set,
                events_received=collected.received,
                events_new=collected.new,
                acked_through=collected.acked_through,
                rejected_notifications=link.client.rejected_notifications,
            )

    async def mirror(
        self, ctx: SyncContext, options: SessionOptions, held: HeldWatch
    ) -> SessionOutcome:
        """Sync, run a session on the watch while mirroring it, then store what it recorded.

        Raises:
            SessionStartError: ``options.start`` on a watch without SESSION_CONTROL (nothing
                is written to it).
        """
        from wearsync.watches.wearsync_timer.live import mirror_session

        async with self.connected(ctx, held) as (link, info, _paired):
            if options.start and not info.features & Feature.SESSION_CONTROL:
                raise SessionStartError(
                    f"{ctx.watch.name or ctx.address} cannot be started from the companion "
                    "(its Timer Info lacks SESSION_CONTROL)",
                    hint="run 'wearsync session --wait' and start the routine on the watch",
                )
            entry = _entry_number(ctx, info, options.entry)
            wire = wanted_program(ctx, info)
            identity = program_identity(wire)
            _clock, _collected, pushed = await link.bonded(lambda: link.prepare(info, wire))
            ctx.progress(
                "starting the session on the watch"
                if options.start
                else "waiting for the wearer to start"
            )
            outcome = await mirror_session(
                link, info=info, identity=identity, options=options, entry=entry
            )
            ctx.progress("reading back the session's events")
            collected = await link.collect_events(await link.read_info())
        return SessionOutcome(
            program_pushed=pushed,
            ended=outcome.ended,
            steps_seen=outcome.steps_seen,
            events_seen=outcome.events_seen,
            events_new=collected.new,
            bonded=True,
        )
