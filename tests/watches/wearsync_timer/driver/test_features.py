"""A client never uses a feature whose Timer Info bit is clear (docs/protocol.md §3.2), against
a simulated watch started with a reduced feature set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.watches.conftest import run_session, sync_watch
from tests.watches.wearsync_timer.driver.conftest import found
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.routine import load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SessionStartError
from wearsync.watches.wearsync_timer.codec import Feature
from wearsync.watches.wearsync_timer.sim.watch import ALL_FEATURES, SimWatch

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
WRITES = {0x12, 0x52}  # Write Request, Write Command


async def start(link: VirtualLink, tmp_path: Path, features: Feature, **kw: object) -> SimWatch:
    return await SimWatch.start(
        link, flash_dir=tmp_path / "flash", clock=ManualClock(), features=features, **kw
    )


async def test_session_without_session_control_says_so_and_writes_nothing(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    watch = await start(link, tmp_path, ALL_FEATURES & ~Feature.SESSION_CONTROL, utc=utc_now())
    try:
        with pytest.raises(SessionStartError) as caught:
            await run_session(
                store=store,
                routine=ROUTINE,
                routine_text=TEXT,
                watch=await found(link, profiles, watch),
                hci=link,
            )
        assert "SESSION_CONTROL" in caught.value.message
        assert "--wait" in (caught.value.hint or "")
        assert "\n" not in caught.value.message
        written = [
            p for p in watch.tap.connections[-1].pdus if p.opcode in WRITES and p.direction == "rx"
        ]
        assert written == [], "nothing may be written to a watch that cannot be started"
        assert watch.committed_program is None
    finally:
        await watch.close()


async def test_without_the_current_time_service_the_clock_is_left_alone(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    watch = await start(link, tmp_path, ALL_FEATURES & ~Feature.CURRENT_TIME_SERVICE)
    try:
        report = await sync_watch(
            store=store,
            routine=ROUTINE,
            routine_text=TEXT,
            watch=await found(link, profiles, watch),
            hci=link,
        )
        assert report.program_pushed and not report.clock_set
        assert watch.utc is None  # never set, although it was never set before either
    finally:
        await watch.close()


async def test_without_event_replay_the_backlog_is_read(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    clock = ManualClock()
    watch = await SimWatch.start(
        link,
        flash_dir=tmp_path / "flash",
        clock=clock,
        features=ALL_FEATURES & ~Feature.EVENT_REPLAY,
        utc=utc_now(),
    )
    try:
        target = await found(link, profiles, watch)
        await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link)
        await watch.press_start()
        await clock.advance(3_000)
        await watch.press_stop()
        await watch.drain()
        waiting = len(watch.events)
        assert waiting >= 3
        report = await sync_watch(
            store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link
        )
        assert report.events_new == waiting
        trace = watch.tap.connections[-1]
        # Read Timer Info, Read Event Log (§9.5.1); the one Write Request is ACK_EVENTS (no
        # CCCD write, no REPLAY_EVENTS); a clock off by over 2 s (a loaded machine) adds one.
        assert trace.count(opcode=0x0A, direction="rx") >= 2
        assert trace.count(opcode=0x12, direction="rx") <= 2
        assert watch.events == []  # read, stored, acknowledged
    finally:
        await watch.close()
