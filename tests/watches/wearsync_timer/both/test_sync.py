"""The main job against both watches: sync the foot routine, read events back exactly once.

Round trips are counted by an ATT tap on the virtual link (what crossed the air). "After
connection and discovery" means every request except the MTU exchange and the discovery
requests.
"""

from __future__ import annotations

from typing import Final

import pytest

from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.both.watch import (
    StartTimerWatch,
    TimerWatch,
    found,
    timer_info,
)
from wearsync.ble.errors import BleError
from wearsync.profiles import DeviceProfile
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.att_tap import AttCounts, AttKind
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.reports import SyncReport
from wearsync.watches.wearsync_timer.codec import InfoFlags, encode_program, program_identity

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
WIRE = encode_program(compile_routine(ROUTINE))
IDENTITY = program_identity(WIRE)
DISCOVERY: Final = {0x02, 0x04, 0x06, 0x08, 0x10}  # MTU, find info/by type, read by (group) type
WRITES: Final = {0x12, 0x52, 0x16, 0x18}  # write request/command, prepare/execute write


def sync_round_trips(counts: AttCounts) -> int:
    """Requests the client sent after connecting and discovering."""
    return sum(
        1
        for pdu in counts.pdus
        if pdu.kind is AttKind.REQUEST and pdu.direction == "rx" and pdu.opcode not in DISCOVERY
    )


async def sync(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], watch: TimerWatch
) -> SyncReport:
    return await sync_watch(
        store=store,
        routine=ROUTINE,
        routine_text=TEXT,
        watch=await found(link, profiles, watch),
        hci=link,
    )


async def start_and_stop(watch: TimerWatch) -> None:
    """Three events from the watch's buttons: SESSION_STARTED, STEP_STARTED (the 5 s lead-in,
    which no watch time passes through here) and SESSION_ABORTED."""
    assert await watch.press("start") == 0
    assert await watch.press("stop") == 0


async def test_first_sync_pairs_sets_the_clock_and_pushes_in_four_round_trips(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    watch = await start_timer_watch(manual_clock=False)
    report = await sync(store, link, profiles, watch)
    assert report.paired and report.program_pushed and report.clock_set
    assert report.program_identity == IDENTITY.hex()
    assert report.program_bytes == len(WIRE) <= 240
    first = watch.tap.connections[-1]
    # Timer Info, Current Time (after Local Time Information as a Write Command), the program
    # in one write, COMMIT.
    assert sync_round_trips(first) == 4
    assert first.count(opcode=0x52) == 1, "Local Time Information went as a Write Command"
    program_writes = [p for p in first.pdus if p.opcode == 0x12 and p.direction == "rx"]
    assert any(p.size == 3 + 4 + len(WIRE) for p in program_writes), "one write carries it all"
    device = store.device(watch.address)
    assert device is not None and device.bonded
    info = await timer_info(watch)
    assert (info.program_identity, info.program_length) == (IDENTITY, len(WIRE))
    assert info.flags & InfoFlags.CLOCK_SET and not info.flags & InfoFlags.STAGING


async def test_unchanged_sync_writes_nothing(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    # Real time on both, so the watch's clock is still right at the second sync.
    watch = await start_timer_watch(manual_clock=False)
    await sync(store, link, profiles, watch)
    report = await sync(store, link, profiles, watch)
    assert not report.program_pushed and not report.paired and not report.clock_set
    second = watch.tap.connections[-1]
    assert sum(second.count(opcode=op) for op in WRITES) == 0
    # Bonded, so discovery is one Read of the cached Database Hash (both serve one,
    # docs/ble-backend.md); then the one round trip of §12.2, Timer Info.
    assert sync_round_trips(second) == 2 and second.round_trips == 3
    assert sum(second.count(opcode=op) for op in DISCOVERY - {0x02}) == 0
    requests = [p for p in second.pdus if p.kind is AttKind.REQUEST and p.opcode not in DISCOVERY]
    assert {p.opcode for p in requests} == {0x0A}, "reads only"


async def test_events_are_read_back_exactly_once_across_a_reboot(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], timer_watch: TimerWatch
) -> None:
    watch = timer_watch
    await sync(store, link, profiles, watch)
    boot = watch.boot_id
    await start_and_stop(watch)
    assert [e["kind"] for e in watch.events()] == [
        "session_started",
        "step_started",
        "session_aborted",
    ]

    # A reboot keeps the program, the bond and the unacknowledged events; the boot id goes up.
    await watch.reboot()
    assert watch.boot_id == boot + 1
    info = await timer_info(watch)
    assert (info.boot_id, info.unacked_events) == (boot + 1, 3)
    assert info.program_identity == IDENTITY

    report = await sync(store, link, profiles, watch)
    assert not report.paired and not report.program_pushed
    assert report.events_received == report.events_new == 3
    assert report.acked_through == f"{boot}/2"
    assert [(e.boot_id, e.seq, e.kind) for e in store.events(watch.address)] == [
        (boot, 0, "session_started"),
        (boot, 1, "step_started"),
        (boot, 2, "session_aborted"),
    ]

    # Events of the new boot start again at seq 0 and join those of the old one.
    await start_and_stop(watch)
    report = await sync(store, link, profiles, watch)
    assert report.events_new == 3 and report.acked_through == f"{boot + 1}/2"
    stored = [(e.boot_id, e.seq) for e in store.events(watch.address)]
    assert stored == [(boot, n) for n in range(3)] + [(boot + 1, n) for n in range(3)]
    printed = [(e["boot_id"], e["seq"]) for e in watch.events()]
    assert stored == printed

    # Acknowledged events are gone, from the log and from flash.
    again = await sync(store, link, profiles, watch)
    assert again.events_received == 0
    await watch.reboot()
    info = await timer_info(watch)
    assert (info.boot_id, info.unacked_events) == (boot + 2, 0)
    assert len(store.events(watch.address)) == 6


@pytest.mark.slow
async def test_link_dropped_after_each_pdu_of_the_read_back_loses_and_doubles_nothing(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], timer_watch: TimerWatch
) -> None:
    watch = timer_watch
    await sync(store, link, profiles, watch)

    # Measure one read-back to know how many PDUs there are to cut at.
    await start_and_stop(watch)
    await sync(store, link, profiles, watch)
    pdus = watch.tap.connections[-1].pdus
    total = len(pdus)
    # Cuts during discovery only make the connection policy connect again (the firmware has no
    # GATT cache: 30-odd PDUs of it); the sweep starts at the sync's first request of its own.
    first = next(
        n for n, p in enumerate(pdus) if p.kind is AttKind.REQUEST and p.opcode not in DISCOVERY
    )
    assert total - first > 10
    failures = 0
    cuts = range(max(first, 1), total + 1)
    for k in cuts:
        await start_and_stop(watch)
        watch.tap.cut_after(k)
        try:
            await sync(store, link, profiles, watch)
        except BleError:
            failures += 1
        watch.tap.disarm()
    assert failures > 0, "the cuts must actually interrupt syncs"
    await sync(store, link, profiles, watch)
    produced = [(e["boot_id"], e["seq"]) for e in watch.events()]
    assert len(produced) == 3 * (len(cuts) + 1)
    # Every event the watch recorded is stored, once; none is left unacknowledged.
    assert [(e.boot_id, e.seq) for e in store.events(watch.address)] == produced
    assert (await timer_info(watch)).unacked_events == 0
