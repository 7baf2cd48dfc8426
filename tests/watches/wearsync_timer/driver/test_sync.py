"""The main job over real GATT: sync the foot routine with the simulated watch, read events back.

Round trips are counted by the watch's ATT tap. "After connection and discovery" means every
request except the MTU exchange and the discovery requests.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.driver.conftest import found
from wearsync.ble.errors import BleError
from wearsync.profiles import DeviceProfile
from wearsync.records import SessionStatus
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.att_tap import AttCounts, AttKind
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.reports import SyncReport
from wearsync.watches.wearsync_timer.codec import encode_program, program_identity
from wearsync.watches.wearsync_timer.sim.notifier import notifying
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
PROGRAM = compile_routine(ROUTINE)
WIRE = encode_program(PROGRAM)
DISCOVERY = {0x02, 0x04, 0x06, 0x08, 0x10}  # MTU exchange, find info/by type, read by (group) type


def sync_round_trips(counts: AttCounts) -> int:
    """Requests the client sent after connecting and discovering."""
    return sum(
        1
        for pdu in counts.pdus
        if pdu.kind is AttKind.REQUEST and pdu.direction == "rx" and pdu.opcode not in DISCOVERY
    )


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


async def test_first_sync_pairs_pushes_and_the_watch_reports_the_identity(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], realtime_watch: SimWatch
) -> None:
    watch = realtime_watch
    report = await sync(store, link, profiles, watch)
    assert report.paired and report.program_pushed and report.clock_set
    assert watch.committed_identity == program_identity(WIRE)
    assert report.program_identity == program_identity(WIRE).hex()
    assert report.program_bytes == len(WIRE) <= 240
    first = watch.tap.connections[-1]
    # Read Timer Info, set the clock (a Write Command of Local Time Information, then Current
    # Time with response), write the program, commit.
    assert sync_round_trips(first) == 4
    assert first.count(opcode=0x52) == 1, "Local Time Information went as a Write Command"
    program_writes = [p for p in first.pdus if p.opcode == 0x12 and p.direction == "rx"]
    assert any(p.size == 3 + 4 + len(WIRE) for p in program_writes), "one write carries it all"
    device = store.device(watch.address)
    assert device is not None and device.bonded


async def test_unchanged_sync_is_one_round_trip_and_writes_nothing(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], realtime_watch: SimWatch
) -> None:
    watch = realtime_watch
    await sync(store, link, profiles, watch)
    report = await sync(store, link, profiles, watch)
    assert not report.program_pushed and not report.paired and not report.clock_set
    second = watch.tap.connections[-1]
    # Bonded, so discovery is one Read of the cached Database Hash (docs/ble-backend.md); then
    # the one round trip of §12.2, Timer Info.
    assert sync_round_trips(second) == 2 and second.round_trips == 3
    assert sum(second.count(opcode=op) for op in DISCOVERY - {0x02}) == 0
    assert second.count(opcode=0x12) == 0 and second.count(opcode=0x52) == 0


async def test_a_session_done_on_the_watch_is_read_back_stored_and_acknowledged(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    watch: SimWatch,
    clock: ManualClock,
) -> None:
    await sync(store, link, profiles, watch)
    await run_session(watch, clock)
    waiting = list(watch.events)
    assert len(waiting) > len(PROGRAM.steps)
    report = await sync(store, link, profiles, watch)
    assert report.events_received == report.events_new == len(waiting)
    assert report.acked_through == f"{waiting[-1].boot_id}/{waiting[-1].seq}"
    assert watch.events == [], "acknowledged events leave the watch's log"
    stored = store.events(watch.address)
    assert [(e.boot_id, e.seq) for e in stored] == [(e.boot_id, e.seq) for e in waiting]
    assert all(e.time_known for e in stored)
    sessions = store.sessions()
    assert [s.status for s in sessions] == [SessionStatus.COMPLETED]
    assert [e.exercise_id for e in sessions[0].exercises] == [ex.id for ex in ROUTINE.exercises]
    again = await sync(store, link, profiles, watch)
    assert again.events_received == 0 and len(store.events()) == len(waiting)


async def test_events_of_both_boots_are_kept_across_a_reboot(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    watch: SimWatch,
    clock: ManualClock,
) -> None:
    await sync(store, link, profiles, watch)
    await run_session(watch, clock)
    first_boot = watch.boot_id
    await watch.reboot()
    assert watch.boot_id != first_boot
    await run_session(watch, clock)
    report = await sync(store, link, profiles, watch)
    boots = {e.boot_id for e in store.events(watch.address)}
    assert boots == {first_boot, watch.boot_id}
    assert report.events_new == len(store.events())
    assert next(e.seq for e in store.events() if e.boot_id == watch.boot_id) == 0
    assert [s.status for s in store.sessions()] == [SessionStatus.COMPLETED] * 2


@pytest.mark.slow
async def test_link_dropped_after_each_pdu_of_the_read_back_loses_and_doubles_nothing(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    watch: SimWatch,
    clock: ManualClock,
) -> None:
    await sync(store, link, profiles, watch)
    produced: set[tuple[int, int]] = set()

    async def new_events() -> None:
        await watch.press_start()
        await clock.advance(20_000)
        await watch.press_stop()
        await watch.drain()
        produced.update((e.boot_id, e.seq) for e in watch.events)

    # Measure one read-back to know how many PDUs there are to cut at.
    await new_events()
    await sync(store, link, profiles, watch)
    total = watch.tap.connections[-1].total
    assert total > 10
    failures = 0
    for k in range(1, total + 1):
        await new_events()
        watch.tap.cut_after(k)
        try:
            await sync(store, link, profiles, watch)
        except BleError:
            failures += 1
        watch.tap.disarm()
        stored = {(e.boot_id, e.seq) for e in store.events(watch.address)}
        on_watch = {(e.boot_id, e.seq) for e in watch.events}
        assert stored | on_watch == produced, f"cut after PDU {k}: an event was lost"
        assert len(store.events()) == len(stored)
    assert failures > 0, "the cuts must actually interrupt syncs"
    await sync(store, link, profiles, watch)
    assert watch.events == []
    assert {(e.boot_id, e.seq) for e in store.events()} == produced


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
