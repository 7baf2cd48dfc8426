"""Keeping the watch in sync on a schedule, for ``wearsync serve``.

Every ``every`` the daemon looks for the watch and syncs it. When the watch is out of range (or
the link drops), it looks again sooner, backing off from ``retry`` up to ``every``, so a watch
that comes back in range is synced within one retry interval. Errors that retrying cannot fix
(a bad routine file, an unsupported watch) are logged and tried again at the next regular sync,
so the daemon never dies of them. It stops when its ``stop`` event is set.

Beside the syncs it keeps the schedule for watches that cannot: at each planned occurrence
(:mod:`wearsync.routine.occurrences`) it finds the watch and asks its driver to remind the
wearer (:meth:`~wearsync.sync.driver.Driver.remind`); a host-timed watch gets one alert, a
watch that reminds itself (the timer service with ENTRIES) nothing. A watch out of range then
misses that reminder.

A watch it has synced before is connected to only when needed: when the driver, reading what
the watch advertises (the timer watch's state beacon, docs/protocol.md §14), finds a reason,
or when the last sync is ``full_every`` old. Only the watch synced last (or ``device``) is ever
looked for, so a stranger's watch nearby is never connected to. A watch it knows is listened
for passively (no scan request, so the watch never answers with a scan response) and
recognised by its address: the beacon is in the advertising data, the name only in the scan
response.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wearsync.ble.errors import BleError, DeviceNotFoundError
from wearsync.errors import InputError, WearSyncError
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.routine.loader import load_routine_and_text
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import Occurrence, occurrences
from wearsync.store import Store
from wearsync.sync.driver import Driver, SyncContext, WatchAt, locate_watch
from wearsync.sync.first_day import fix_first_day
from wearsync.sync.reports import SyncReport

if TYPE_CHECKING:
    from wearsync.ble.connection import FoundWatch
    from wearsync.ble.hci import HciSpec

log = logging.getLogger(__name__)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
#: Longest interval between syncs. A watch holds its backlog for a few weeks at most, and
#: beyond this an asyncio timer or a timedelta would overflow on hostile input anyway.
MAX_INTERVAL = timedelta(days=31)


def parse_interval(text: str, option: str = "--sync-every") -> timedelta:
    """``15m`` -> 15 minutes; also ``30s``, ``1.5h``, ``1d``, ``500ms`` or plain seconds.

    Raises:
        InputError: not a positive duration, or longer than :data:`MAX_INTERVAL`.
    """
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise InputError(f"{option}: {text!r} is not a duration (e.g. 30s, 15m, 1h)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    # Compared as floats first: timedelta() itself overflows on a long enough number.
    if seconds > MAX_INTERVAL.total_seconds():
        raise InputError(
            f"{option}: {text!r} is longer than {MAX_INTERVAL.days} days",
            hint="sync at least monthly, e.g. --sync-every 1d",
        )
    return timedelta(seconds=seconds)


@dataclass
class SyncDaemon:
    """Syncs one routine with the watch every ``every``; see the module docstring.

    Attributes:
        store: the open database.
        routine: a built-in routine name or a TOML file (re-read before every sync).
        profiles: the device profiles to recognise the watch by.
        every: the regular interval between checks (a check connects only when needed).
        full_every: the longest a known watch goes without a sync, whatever it advertises.
        retry: the first retry interval after a failed sync (doubles up to ``every``).
        device: the watch's name or address; default the one synced last, else any.
        hci: the HCI transport (None: ``$WEARSYNC_HCI`` or the platform stack).
        scan_seconds: how long one search for the watch lasts.
        drivers: gives the driver of a profile (the registry's ``driver_for``: the daemon
            names no family itself).
        on_synced: called with each sync report (the feed server refreshes from it).
        watch_at: finds a watch reached without a scan (the registry's ``watch_at``: a Garmin
            watch's folder) at ``device`` or the address synced last; ``None`` to always scan.
    """

    store: Store
    routine: str
    profiles: Sequence[DeviceProfile]
    drivers: Callable[[DeviceProfile], Driver]
    every: timedelta
    retry: timedelta = timedelta(seconds=30)
    device: str | None = None
    hci: HciSpec | None = None
    scan_seconds: float = 10.0
    on_synced: Callable[[SyncReport], None] | None = None
    watch_at: WatchAt | None = None
    full_every: timedelta = timedelta(hours=24)
    syncs: int = 0
    failures: int = 0
    remind: bool = True
    reminders_sent: int = 0
    skipped: int = 0
    """Checks that found nothing new and did not connect."""

    async def run(self, stop: asyncio.Event) -> None:
        """Sync (and remind) until ``stop`` is set; returns promptly when it is."""
        reminding = asyncio.create_task(self._remind_forever(stop)) if self.remind else None
        try:
            await self._sync_forever(stop)
        finally:
            if reminding is not None:
                reminding.cancel()
                with suppress(asyncio.CancelledError):
                    await reminding

    async def _sync_forever(self, stop: asyncio.Event) -> None:
        backoff = self.retry
        while not stop.is_set():
            wait = self.every
            try:
                await self.check_once()
                backoff = self.retry
            except (DeviceNotFoundError, BleError) as exc:
                self.failures += 1
                wait = min(backoff, self.every)
                backoff = min(backoff * 2, self.every)
                log.warning("sync failed: %s; trying again in %s", exc.message, _human(wait))
            except WearSyncError as exc:
                self.failures += 1
                log.error("sync failed: %s%s", exc.message, f" ({exc.hint})" if exc.hint else "")
            try:
                async with asyncio.timeout(wait.total_seconds()):
                    await stop.wait()
            except TimeoutError:
                pass
        log.info("stopped after %d syncs", self.syncs)

    async def _remind_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                routine, _text = load_routine_and_text(self.routine)
            except InputError as exc:
                log.error("reminders paused: %s", exc.message)
                routine = None
            now = utc_now()
            due = [] if routine is None else self.next_due(routine, now)
            wait = (due[0].at - now).total_seconds() if due else 86400.0
            try:
                async with asyncio.timeout(max(wait, 0.0)):
                    await stop.wait()
                return
            except TimeoutError:
                pass
            for occurrence in due:
                await self.remind_once(occurrence)

    def next_due(self, routine: Routine, now: datetime) -> list[Occurrence]:
        """The occurrences at the next planned time after ``now`` (several may share it)."""
        first = fix_first_day(self.store, routine, now)
        ahead = occurrences(
            routine,
            first_day=first,
            start=now + timedelta(microseconds=1),
            end=now + timedelta(days=int(routine.schedule.every_days.max) + 2),
        )
        return [o for o in ahead if o.at == ahead[0].at] if ahead else []

    async def remind_once(self, occurrence: Occurrence) -> bool:
        """Find the watch and have its driver remind the wearer of ``occurrence`` now."""
        try:
            routine, text = load_routine_and_text(self.routine)
            watch = await self.locate()
            ctx = SyncContext.of(self.store, watch, routine, text, hci=self.hci)
            sent = await self.drivers(watch.profile).send_reminder(ctx, occurrence)
        except WearSyncError as exc:
            log.warning("no reminder for %s: %s", occurrence.entry, exc.message)
            return False
        self.reminders_sent += sent
        return sent

    async def locate(self) -> FoundWatch:
        """The watch: where its family reaches it without a scan, else by scanning."""
        return await locate_watch(
            self.store,
            self.profiles,
            device=self.device,
            hci=self.hci,
            seconds=self.scan_seconds,
            watch_at=self.watch_at,
            passive=True,
        )

    async def sync_once(self) -> SyncReport:
        """Find the watch and sync it once; returns the driver's report."""
        report = await self.check_once(force=True)
        assert report is not None  # forced: always synced
        return report

    async def check_once(self, *, force: bool = False) -> SyncReport | None:
        """Find the watch and sync it if needed (see the module docstring).

        Returns the report, or ``None`` when the watch said nothing is new and no connection
        was made.
        """
        routine, text = load_routine_and_text(self.routine)
        watch = await self.locate()
        ctx = SyncContext.of(self.store, watch, routine, text, hci=self.hci)
        driver = self.drivers(watch.profile)
        reason = "forced" if force else await self._reason(ctx, driver)
        if reason is None:
            self.skipped += 1
            log.info("%s: nothing new, not connecting", watch.name or watch.address)
            return None
        log.info("syncing %s: %s", watch.name or watch.address, reason)
        report = await driver.sync(ctx)
        self.syncs += 1
        log.info(
            "synced %s: program %s, %d new events",
            watch.name or watch.address,
            "pushed" if report.program_pushed else "unchanged",
            report.events_new,
        )
        if self.on_synced is not None:
            self.on_synced(report)
        return report

    async def _reason(self, ctx: SyncContext, driver: Driver) -> str | None:
        known = self.store.device(ctx.address)
        if known is None or not known.bonded or known.last_sync is None:
            return "first sync"
        if utc_now() - known.last_sync >= self.full_every:
            return f"last synced {_human(utc_now() - known.last_sync)} ago"
        return await driver.needs_sync(ctx)


def _human(interval: timedelta) -> str:
    seconds = interval.total_seconds()
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
