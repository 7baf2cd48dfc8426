"""The NimBLE firmware against the real wearsync client, over bumble's virtual controllers.

Every test runs the sanitized firmware binary as a process; its fixture fails the test if
AddressSanitizer or UBSan reported anything on stderr. Round trips are counted by an ATT tap
on the virtual link (what crossed the air), as for the simulator in tests/sync.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bleak import BleakClient
from bleak.exc import BleakGATTProtocolError

from tests.firmware.conftest import Firmware, found, start_firmware, wanted_program
from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.driver.test_sync import sync_round_trips
from wearsync.ble.bumble_backend import BumbleBleakClient, close_centrals
from wearsync.profiles import DeviceProfile
from wearsync.routine import load_routine
from wearsync.routine.loader import builtin_text, parse_routine
from wearsync.sim.att_tap import AttTap
from wearsync.sim.hci_server import HciServer
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SyncContext
from wearsync.sync.reports import SyncReport
from wearsync.watches.wearsync_timer.codec import program_identity
from wearsync.watches.wearsync_timer.codec import uuids as U
from wearsync.watches.wearsync_timer.driver import open_watch

pytestmark = pytest.mark.slow

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
WIRE = wanted_program(ROUTINE)  # format 2: the firmware has ENTRIES
IDENTITY = program_identity(WIRE)


async def sync(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], fw: Firmware
) -> SyncReport:
    return await sync_watch(
        store=store,
        routine=ROUTINE,
        routine_text=TEXT,
        watch=await found(link, profiles, fw),
        hci=link,
    )


async def test_first_sync_pairs_sets_the_clock_and_pushes_in_four_round_trips(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware
) -> None:
    tap = AttTap(link, subject=firmware.ready["address"])
    report = await sync(store, link, profiles, firmware)
    assert report.paired and report.program_pushed and report.clock_set
    assert report.program_identity == IDENTITY.hex()
    first = tap.connections[-1]
    # Timer Info, Current Time (after Local Time Information as a Write Command), the program
    # in one write, COMMIT.
    assert sync_round_trips(first) == 4
    assert first.count(opcode=0x52) == 1, "Local Time Information went as a Write Command"
    program_writes = [p for p in first.pdus if p.opcode == 0x12 and p.direction == "rx"]
    assert any(p.size == 3 + 4 + len(WIRE) for p in program_writes), "one write carries it all"
    device = store.device(firmware.ready["address"])
    assert device is not None and device.bonded


async def test_unchanged_sync_is_one_round_trip_and_writes_nothing(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware
) -> None:
    tap = AttTap(link, subject=firmware.ready["address"])
    await sync(store, link, profiles, firmware)
    report = await sync(store, link, profiles, firmware)
    assert not report.program_pushed and not report.paired and not report.clock_set
    second = tap.connections[-1]
    assert sync_round_trips(second) == 1
    # No Write Request; the one Write Command is Local Time Information, which a watch with
    # ENTRIES gets at every sync so its reminders follow the zone's offset (§12.8).
    assert second.count(opcode=0x12) == 0 and second.count(opcode=0x52) == 1


async def test_events_are_stored_exactly_once_across_a_restart_and_a_reconnect(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware
) -> None:
    await sync(store, link, profiles, firmware)
    boot = firmware.ready["boot_id"]
    target = await found(link, profiles, firmware)
    async with open_watch(SyncContext.of(store, target, ROUTINE, TEXT, hci=link)) as (
        session,
        _info,
        _paired,
    ):
        await session.client.start_session(IDENTITY)
        await session.client.stop_session()
    kinds = [e["kind"] for e in firmware.of_type("event")]
    assert kinds == ["session_started", "step_started", "session_aborted"]

    # A reboot keeps the program, the bond and the unacknowledged events; the boot id goes up.
    ready = await firmware.restart()
    assert ready["boot_id"] == boot + 1
    assert ready["program_identity"] == IDENTITY.hex()
    assert ready["unacked_events"] == 3

    report = await sync(store, link, profiles, firmware)
    assert not report.paired and not report.program_pushed
    assert report.events_received == report.events_new == 3
    assert report.acked_through == f"{boot}/2"
    stored = store.events(firmware.ready["address"])
    assert [(e.boot_id, e.seq, e.kind) for e in stored] == [
        (boot, 0, "session_started"),
        (boot, 1, "step_started"),
        (boot, 2, "session_aborted"),
    ]

    # Acknowledged events are gone, from the log and from its file.
    again = await sync(store, link, profiles, firmware)
    assert again.events_received == 0
    ready = await firmware.restart()
    assert ready["unacked_events"] == 0 and ready["boot_id"] == boot + 2
    assert len(store.events(firmware.ready["address"])) == 3


async def test_an_unpaired_client_gets_0x05_and_a_forgotten_bond_0x0f(
    link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware
) -> None:
    device = (await found(link, profiles, firmware)).device
    protected = [
        (str(U.SESSION_STATUS), None),
        (str(U.EVENT_LOG), None),
        (str(U.CONTROL_POINT), bytes([0x02])),  # ABORT_STAGED, harmless if it got through
        (str(U.PROGRAM), bytes.fromhex("0100000001")),
        (str(U.CURRENT_TIME), bytes(10)),
    ]
    async with BleakClient(device, backend=BumbleBleakClient, hci=link) as client:
        info = await client.read_gatt_char(str(U.TIMER_INFO))  # readable unencrypted (§2.2)
        assert info[0] == 1 and len(info) == 40
        for uuid, value in protected:
            with pytest.raises(BleakGATTProtocolError) as caught:
                if value is None:
                    await client.read_gatt_char(uuid)
                else:
                    await client.write_gatt_char(uuid, value, response=True)
            assert caught.value.code == 0x05, uuid
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.start_notify(str(U.EVENT_LOG), lambda _c, _v: None)
        assert caught.value.code == 0x05
        # Nothing was staged by the refused Program write (§2.3): STAGING is clear.
        assert not (await client.read_gatt_char(str(U.TIMER_INFO)))[3] & 0x04

    async with BleakClient(device, backend=BumbleBleakClient, hci=link, pair=True) as client:
        assert len(await client.read_gatt_char(str(U.SESSION_STATUS))) == 7
        await client.unpair()  # the central forgets its keys; the watch keeps the bond
    async with BleakClient(device, backend=BumbleBleakClient, hci=link) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.read_gatt_char(str(U.SESSION_STATUS))
        assert caught.value.code == 0x0F


async def test_bonds_survive_a_restart(
    link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware, tmp_path: Path
) -> None:
    device = (await found(link, profiles, firmware)).device
    async with BleakClient(device, backend=BumbleBleakClient, hci=link, pair=True) as client:
        assert len(await client.read_gatt_char(str(U.SESSION_STATUS))) == 7
    await firmware.restart()
    device = (await found(link, profiles, firmware)).device
    async with BleakClient(device, backend=BumbleBleakClient, hci=link) as client:
        # Encrypted again with the stored bond, without pairing.
        assert len(await client.read_gatt_char(str(U.SESSION_STATUS))) == 7
    bonds = tmp_path / "fw" / "bonds"
    assert bonds.stat().st_mode & 0o777 == 0o600
    await close_centrals()


async def test_a_restart_during_a_session_records_session_aborted_at_the_next_boot(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    hci_server: HciServer,
    tmp_path: Path,
) -> None:
    # At a hundredth of real speed the 5 s lead-in lasts 500 s: the restart surely cuts it.
    firmware = await start_firmware(hci_server, tmp_path / "slow", time_scale=0.01)
    try:
        await cut_a_session(store, link, profiles, firmware)
    finally:
        await firmware.stop()


async def cut_a_session(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware
) -> None:
    await sync(store, link, profiles, firmware)
    boot = firmware.ready["boot_id"]
    target = await found(link, profiles, firmware)
    async with open_watch(SyncContext.of(store, target, ROUTINE, TEXT, hci=link)) as (
        session,
        _info,
        _paired,
    ):
        await session.client.start_session(IDENTITY)
    # The foot routine's lead-in is still running: the process goes down mid-session.
    ready = await firmware.restart()
    assert ready["unacked_events"] == 3
    aborted = firmware.of_type("event")[-1]
    assert (aborted["boot_id"], aborted["seq"], aborted["kind"]) == (boot + 1, 0, "session_aborted")
    # At the step the marker held (the lead-in) and its session time then (§8.2, §9.3).
    assert (aborted["step"], aborted["duration_ms"]) == (0, 0)
    report = await sync(store, link, profiles, firmware)
    assert report.events_new == 3
    ready = await firmware.restart()
    assert ready["unacked_events"] == 0, "the marker is gone: no second SESSION_ABORTED"


async def test_a_bonded_clients_cccds_are_restored_on_reconnection_and_after_a_restart(
    link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware
) -> None:
    replay = bytes([0x08])
    device = (await found(link, profiles, firmware)).device
    async with BleakClient(device, backend=BumbleBleakClient, hci=link, pair=True) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.write_gatt_char(str(U.CONTROL_POINT), replay, response=True)
        assert caught.value.code == 0xFD, "REPLAY_EVENTS needs notifications (§9.5.2)"
        await client.start_notify(str(U.EVENT_LOG), lambda _c, _v: None)
        await client.write_gatt_char(str(U.CONTROL_POINT), replay, response=True)
    for restart in (False, True):
        if restart:
            await firmware.restart()
            device = (await found(link, profiles, firmware)).device
        async with BleakClient(device, backend=BumbleBleakClient, hci=link) as client:
            # No CCCD write on this link: the subscription came back with the bond (§2.3).
            assert len(await client.read_gatt_char(str(U.SESSION_STATUS))) == 7  # encrypted
            await client.write_gatt_char(str(U.CONTROL_POINT), replay, response=True)


async def test_a_commit_cut_before_the_slot_switch_leaves_the_previous_program(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware
) -> None:
    await sync(store, link, profiles, firmware)
    flash = firmware.directory
    record = (flash / "slot").read_bytes()
    active = record[0]
    # A later COMMIT wrote its program into the other slot and lost power before the one
    # write of the slot record (§6.4): that slot holds bytes nobody committed.
    (flash / f"program.{1 - active}").write_bytes(b"\x01\x00garbage of a cut write")
    ready = await firmware.restart()
    assert ready["program_identity"] == IDENTITY.hex()
    # A damaged slot record is never trusted: the watch starts with no program, not a wrong one.
    (flash / "slot").write_bytes(record[:-1] + bytes([record[-1] ^ 0xFF]))
    ready = await firmware.restart()
    assert ready["program_identity"] is None


def long_routine_text() -> str:
    """A routine whose program needs several chunks at ATT_MTU 247 (over 240 bytes)."""
    head = (Path(__file__).parent / "data" / "short.toml").read_text().split("[[exercises]]")[0]
    exercises = "".join(
        f'[[exercises]]\nid = "move-{n}"\nname = "Movement number {n} of the long list"\n'
        f"hold = {{ counts = {2 + n % 3} }}\nrelease = {{ seconds = 1 }}\nreps = {1 + n % 4}\n\n"
        for n in range(12)
    )
    return head + exercises


async def test_a_program_of_several_chunks_is_pushed_and_committed(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    firmware: Firmware,
    tmp_path: Path,
) -> None:
    text = long_routine_text()
    routine = parse_routine(text)
    wire = wanted_program(routine)
    assert len(wire) > 2 * 240
    tap = AttTap(link, subject=firmware.ready["address"])
    report = await sync_watch(
        store=store,
        routine=routine,
        routine_text=text,
        watch=await found(link, profiles, firmware),
        hci=link,
    )
    assert report.program_pushed and report.program_identity == program_identity(wire).hex()
    pdus = tap.connections[-1].pdus
    writes = [p for p in pdus if p.direction == "rx" and p.opcode in (0x12, 0x52)]
    # Chunks of at most 240 program bytes (§6.1); CTS and COMMIT writes are 13 bytes or less.
    program_writes = [p for p in writes if p.size > 20]
    assert [p.size - 7 for p in program_writes] == [240, 240, len(wire) - 480]
    ready = await firmware.restart()
    assert ready["program_identity"] == program_identity(wire).hex()
