"""A real store with sessions synced from simulated timer watches, and the feed server with the
pages mounted as ``wearsync serve`` mounts them, live on 127.0.0.1.

Two watches run the foot routine in virtual time (a :class:`ManualClock`) and are synced over
the virtual radio: the first completes a session, skips an exercise in a second, stops a third
and is rebooted in the middle of a fourth; the second completes one session. Neither offers the
Current Time Service, so syncs leave their clocks as booted: the first two hours behind (every
session lies before the pages' now), the second three days behind (a session "three days ago").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.watches.conftest import sync_watch
from wearsync.ble.connection import find_watch
from wearsync.calendar.feed import FeedServer
from wearsync.calendar.tokens import set_schedule_start
from wearsync.cli.feed import start_feed
from wearsync.profiles import DeviceProfile
from wearsync.records import SessionRecord, utc_now
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.watches.wearsync_timer.codec.info import Feature
from wearsync.watches.wearsync_timer.sim.watch import SimWatch
from wearsync.web.tokens import page_tokens

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
PROGRAM = compile_routine(ROUTINE)
FIRST_WATCH = "WearSync Left"
SECOND_WATCH = "WearSync Spare"
NO_CLOCK_SETTING = Feature.SESSION_CONTROL | Feature.PAUSE_RESUME | Feature.EVENT_REPLAY
"""The watches keep the clock they booted with (no Current Time Service to set it)."""


async def _sync(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], w: SimWatch
) -> None:
    found = await find_watch(profiles, name_or_address=w.address, hci=link, seconds=5)
    await sync_watch(store=store, watch=found, routine=ROUTINE, routine_text=TEXT, hci=link)


async def _session(w: SimWatch, clock: ManualClock, how: str) -> None:
    await w.press_start()
    if how == "complete":
        await clock.advance(PROGRAM.total_ms + 1000)
    elif how == "skip":
        await clock.advance(40_000)
        await w.press_skip()
        await clock.advance(PROGRAM.total_ms + 1000)
    elif how == "stop":
        await clock.advance(60_000)
        await w.press_stop()
        await clock.advance(1000)
    elif how == "reboot":
        await clock.advance(30_000)
        await w.reboot()
        await clock.advance(1000)
    await w.drain()


@pytest.fixture
async def synced(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], tmp_path: Path
) -> list[SessionRecord]:
    """The store after both watches' sessions were synced; the sessions, oldest first."""
    clock = ManualClock()
    first = await SimWatch.start(
        link,
        flash_dir=tmp_path / "w1",
        clock=clock,
        utc=utc_now() - timedelta(hours=2),  # its sessions end before the server's now
        name=FIRST_WATCH,
        features=NO_CLOCK_SETTING,
    )
    behind = await SimWatch.start(
        link,
        flash_dir=tmp_path / "w2",
        clock=clock,
        utc=utc_now() - timedelta(days=3),
        name=SECOND_WATCH,
        features=NO_CLOCK_SETTING,
    )
    try:
        await _sync(store, link, profiles, first)
        await _sync(store, link, profiles, behind)
        await _session(behind, clock, "complete")
        for how in ("complete", "skip", "stop", "reboot"):
            await _session(first, clock, how)
            await clock.advance(120_000)
        await _sync(store, link, profiles, first)
        await _sync(store, link, profiles, behind)
    finally:
        await first.close()
        await behind.close()
    # As if the first sync, and the schedule's first day, had been five days ago (the
    # companion's clock cannot be set back): adherence counts from the first push on.
    began = utc_now() - timedelta(days=5)
    with store.transaction() as conn:
        conn.execute(
            "UPDATE push_log SET pushed_at = ?",
            (began.astimezone(UTC).isoformat(timespec="microseconds"),),
        )
    set_schedule_start(store, ROUTINE.name, began.astimezone(ROUTINE.schedule.zone))
    return sorted(store.sessions(), key=lambda s: s.started_at)


@dataclass
class Site:
    """The running server, the pages' and the feed's links, and an HTTP client."""

    server: FeedServer
    store: Store
    http: aiohttp.ClientSession

    @property
    def token(self) -> str:
        return page_tokens(self.store).current()

    @property
    def root(self) -> str:
        return f"{self.server.url}web/{self.token}/"

    async def get(self, url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        async with self.http.request(method, url) as response:
            return response.status, dict(response.headers), await response.read()

    async def page(self, name: str = "") -> str:
        status, headers, body = await self.get(self.root + name)
        assert status == 200, (name, status, body[:200])
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        return body.decode()


@pytest.fixture
async def site(store: Store, synced: list[SessionRecord]) -> AsyncIterator[Site]:
    """The feed server with the pages, as ``wearsync serve`` starts it, on a free port."""
    server, _source, _tokens = await start_feed(store, "foot-care", "127.0.0.1", 0, None)
    try:
        async with aiohttp.ClientSession() as http:
            yield Site(server, store, http)
    finally:
        await server.stop()
