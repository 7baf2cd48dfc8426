"""Mirroring a session the wearer starts, and the daemon finding the watch again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.watches.conftest import run_session
from tests.watches.wearsync_timer.driver.conftest import found
from wearsync.profiles import DeviceProfile
from wearsync.records import SessionStatus, utc_now
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.clock import ManualClock, SimClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.daemon import SyncDaemon, parse_interval
from wearsync.sync.live import LiveUpdate
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.sim.watch import SimWatch


async def until(condition: Callable[[], bool]) -> None:
    """Wait (polling) until ``condition()`` holds; fail after 20 seconds."""
    async with asyncio.timeout(20):
        while not condition():  # noqa: ASYNC110 - the state lives in plain attributes
            await asyncio.sleep(0.01)


ROUTINE = load_routine("foot-care")
PROGRAM = compile_routine(ROUTINE)


async def test_waiting_for_the_wearer_mirrors_every_step(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    watch: SimWatch,
    clock: ManualClock,
) -> None:
    updates: list[LiveUpdate] = []
    task = asyncio.create_task(
        run_session(
            store=store,
            routine=ROUTINE,
            routine_text=builtin_text("foot-care"),
            watch=await found(link, profiles, watch),
            hci=link,
            start=False,
            on_update=updates.append,
            silence_timeout=10,
        )
    )
    await until(lambda: watch.committed_identity is not None and bool(watch.connections))
    await asyncio.sleep(0.1)  # the mirror is subscribed and listening
    await watch.press_start()
    while not task.done():
        await clock.advance(5_000)
        await asyncio.sleep(0)
    report = task.result()
    assert report.ended == "session_completed"
    steps = [u.step.index for u in updates if u.kind == "step_started" and u.step]
    assert steps == list(range(len(PROGRAM.steps)))
    cues = [u.cue for u in updates if u.kind == "step_started"]
    assert cues == [s.cue for s in PROGRAM.steps]
    assert [s.status for s in store.sessions()] == [SessionStatus.COMPLETED]


async def test_the_daemon_syncs_again_when_the_watch_comes_back(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    flash = tmp_path / "daemon-flash"
    watch = await SimWatch.start(link, flash_dir=flash, clock=SimClock(), utc=utc_now())
    daemon = SyncDaemon(
        store=store,
        routine="foot-care",
        profiles=profiles,
        drivers=registry.driver_for,
        every=parse_interval("200ms"),
        retry=timedelta(milliseconds=50),
        hci=link,
        scan_seconds=0.3,
        full_every=timedelta(0),  # connect at every check, whatever the beacon says
    )
    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop))
    await until(lambda: daemon.syncs >= 2)
    await watch.close()  # out of range
    failures = daemon.failures
    await until(lambda: daemon.failures >= failures + 2)
    syncs = daemon.syncs
    watch = await SimWatch.start(link, flash_dir=flash, clock=SimClock(), utc=utc_now())
    await until(lambda: daemon.syncs >= syncs + 1)
    stop.set()
    await asyncio.wait_for(running, 5)
    await watch.close()
    assert daemon.syncs >= 3


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("30s", 30), ("1.5h", 5400), ("90", 90), ("500ms", 0.5)]
)
def test_intervals(text: str, seconds: float) -> None:
    assert parse_interval(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "0", "-5m", "fortnightly", "5 weeks"])
def test_bad_intervals(text: str) -> None:
    from wearsync.errors import InputError

    with pytest.raises(InputError, match="--sync-every"):
        parse_interval(text)
