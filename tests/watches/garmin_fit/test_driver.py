"""The Garmin family through the registry, against its simulated watch (a folder that runs
workouts, written with fit-tool) and a real store."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from wearsync.records import SessionStatus
from wearsync.routine import Routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.wearer import Wearer
from wearsync.store import Store
from wearsync.sync.daemon import SyncDaemon
from wearsync.sync.driver import SessionOptions, SessionStartError, SyncContext
from wearsync.sync.reports import SyncReport
from wearsync.watches import registry
from wearsync.watches.garmin_fit.driver import GarminFitDriver
from wearsync.watches.garmin_fit.sim import SimGarmin

TEXT = builtin_text("foot-care")
SPEED = 5000.0  # the 9 min 20 s routine in about a tenth of a second


async def wait_for_activities(sim: SimGarmin, count: int) -> None:
    for _ in range(200):
        if sim.activities >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the simulated watch saved {sim.activities} activities, not {count}")


async def sync(store: Store, path: Path, routine: Routine) -> SyncReport:
    watch = registry.watch_at(str(path), registry.load_profiles())
    assert watch is not None
    ctx = SyncContext.of(store, watch, routine, TEXT)
    return await registry.driver_for(watch.profile).sync(ctx)


def test_a_folder_is_a_garmin_watch_and_an_address_is_not(tmp_path: Path) -> None:
    profiles = registry.load_profiles()
    (tmp_path / "GARMIN").mkdir()
    watch = registry.watch_at(str(tmp_path), profiles)
    assert watch is not None
    assert watch.profile.id == "garmin-fit"
    assert watch.address == f"garmin-fit:{tmp_path.resolve()}"
    assert isinstance(registry.driver_for(watch.profile), GarminFitDriver)
    again = registry.watch_at(watch.address, profiles)  # as stored after a sync
    assert again is not None and again.address == watch.address
    assert registry.watch_at("AA:BB:CC:DD:EE:FF", profiles) is None
    assert registry.watch_at(str(tmp_path / "missing"), profiles) is None


async def test_sync_pushes_once_and_reads_back_what_the_watch_did(
    tmp_path: Path, routine: Routine
) -> None:
    drive = tmp_path / "drive"
    sim = SimGarmin(drive, speed=SPEED, wearer=Wearer(), emit=lambda _line: None)
    try:
        with Store.open(tmp_path / "wearsync.db") as store:
            first = await sync(store, drive, routine)
            assert first.program_pushed and first.profile == "garmin-fit"
            await wait_for_activities(sim, 1)
            assert sim.loaded == 1
            second = await sync(store, drive, routine)
            assert not second.program_pushed  # loaded into GARMIN/Workouts, same bytes
            assert second.events_new == second.events_received > 0
            assert second.sessions == 1
            (session,) = store.sessions()
            assert session.status is SessionStatus.COMPLETED
            assert session.routine == "foot-care"
            assert [d.address for d in store.devices()] == [first.address]
            third = await sync(store, drive, routine)
            assert (third.events_received, third.events_new) == (0, 0)
    finally:
        await sim.close()


async def test_a_stopped_workout_is_an_aborted_session(tmp_path: Path, routine: Routine) -> None:
    drive = tmp_path / "drive"
    wearer = Wearer.parse("abort=40:1000,pause=3:20000:500")
    sim = SimGarmin(drive, speed=SPEED, wearer=wearer, emit=lambda _line: None)
    try:
        with Store.open(tmp_path / "wearsync.db") as store:
            await sync(store, drive, routine)
            await wait_for_activities(sim, 1)
            await sync(store, drive, routine)
            (session,) = store.sessions()
            assert session.status is SessionStatus.ABORTED
            kinds = [e.kind for e in store.events()]
            assert kinds.count("paused") == 1 and kinds[-1] == "session_aborted"
            assert store.events()[-1].step == 40
    finally:
        await sim.close()


async def test_a_live_session_is_refused_on_one_line(tmp_path: Path, routine: Routine) -> None:
    (tmp_path / "GARMIN").mkdir()
    watch = registry.watch_at(str(tmp_path), registry.load_profiles())
    assert watch is not None
    with Store.open(tmp_path / "wearsync.db") as store:
        for start in (True, False):
            with pytest.raises(SessionStartError, match="activity files") as caught:
                ctx = SyncContext.of(store, watch, routine, TEXT)
                options = SessionOptions(on_update=lambda _u: None, start=start)
                await registry.driver_for(watch.profile).session(ctx, options)
            assert caught.value.hint is not None and "sync --device" in caught.value.hint
        assert store.events() == []


async def test_the_daemon_keeps_a_mounted_watch_in_sync(tmp_path: Path, routine: Routine) -> None:
    drive = tmp_path / "drive"
    sim = SimGarmin(drive, speed=SPEED, wearer=Wearer(), emit=lambda _line: None)
    try:
        with Store.open(tmp_path / "wearsync.db") as store:
            daemon = SyncDaemon(
                store=store,
                routine="foot-care",
                profiles=registry.load_profiles(),
                drivers=registry.driver_for,
                watch_at=registry.watch_at,
                every=timedelta(minutes=15),
                device=str(drive),
            )
            assert (await daemon.sync_once()).program_pushed
            await wait_for_activities(sim, 1)
            daemon.device = None  # the folder synced last, found without a scan
            report = await daemon.sync_once()
            assert report.events_new > 0 and report.sessions == 1
    finally:
        await sim.close()
