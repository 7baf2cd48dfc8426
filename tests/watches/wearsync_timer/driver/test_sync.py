"""The simulated watch's side of the main job that only the simulator can show: a scan by
profile, and a hostile notification injected into a sync.

First and unchanged syncs, events read back across reboots and cuts, and sessions read back run
against both timer watches (the simulator and the NimBLE firmware) in ../both/.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.driver.conftest import found
from wearsync.profiles import DeviceProfile
from wearsync.records import SessionStatus
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.reports import SyncReport
from wearsync.watches.wearsync_timer.codec import encode_program
from wearsync.watches.wearsync_timer.sim.notifier import notifying
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
PROGRAM = compile_routine(ROUTINE)
WIRE = encode_program(PROGRAM)


async def sync(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], watch: SimWatch
) -> SyncReport:
    return await sync_watch(
        store=store,
        routine=ROUTINE,
        routine_text=TEXT,
        watch=await found(link, profiles, watch),
        hci=link,
    )


async def run_session(watch: SimWatch, clock: ManualClock) -> None:
    await watch.press_start()
    await clock.advance(PROGRAM.total_ms + 1000)
    await watch.drain()


async def test_scan_finds_the_watch_by_its_profile(
    link: VirtualLink, profiles: list[DeviceProfile], watch: SimWatch
) -> None:
    match = await found(link, profiles, watch)
    assert match.profile.id == "wearsync-timer"
    assert match.address == watch.address


async def test_a_hostile_notification_is_dropped_and_the_sync_goes_on(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    watch: SimWatch,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await sync(store, link, profiles, watch)
    await run_session(watch, clock)
    waiting = len(watch.events)
    service = watch.service
    assert service is not None and watch.peripheral is not None
    device = watch.peripheral.device

    # Send garbage on the Event Log characteristic as soon as the client subscribes to it.
    async def inject() -> None:
        while True:
            conns = watch.connections
            if conns and notifying(device, conns[0], service.event_log):
                await device.notify_subscriber(
                    conns[0], service.event_log, b"\x05\x1cnot an event record at all"
                )
                return
            await asyncio.sleep(0.001)

    task = asyncio.create_task(inject())
    report = await sync(store, link, profiles, watch)
    await task
    assert report.rejected_notifications == 1
    assert report.events_new == waiting
    assert "dropped a malformed Event Log value" in caplog.text
    assert [s.status for s in store.sessions()] == [SessionStatus.COMPLETED]
