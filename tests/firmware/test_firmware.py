"""What only the firmware shows: its flash directory after a cut write and a bond, and a choice
§2.4 leaves to the watch.

The behaviour both watches share (sync, transfer cuts, events, security, sessions, entries)
is tested against the simulator and the firmware alike in tests/watches/wearsync_timer/both/.
Every test runs the sanitized firmware binary as a process; its fixture fails the test if
AddressSanitizer or UBSan reported anything on stderr.
"""

from __future__ import annotations

import pytest
from bleak import BleakClient
from bumble import att

from tests.firmware.conftest import Firmware, found, wanted_program
from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.codec.test_golden import CHUNK
from wearsync.ble.bumble_backend import BumbleBleakClient
from wearsync.profiles import DeviceProfile
from wearsync.routine import load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.reports import SyncReport
from wearsync.watches.wearsync_timer.codec import InfoFlags, TimerInfo, program_identity
from wearsync.watches.wearsync_timer.codec import uuids as U

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


async def test_the_bonds_file_is_private(
    link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware
) -> None:
    device = (await found(link, profiles, firmware)).device
    async with BleakClient(device, backend=BumbleBleakClient, hci=link, pair=True) as client:
        assert len(await client.read_gatt_char(str(U.SESSION_STATUS))) == 7
    await firmware.stop()  # written by then, whatever the firmware buffers
    assert (firmware.directory / "bonds").stat().st_mode & 0o777 == 0o600


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


async def test_prepare_write_on_program_is_refused_with_0x06(
    link: VirtualLink, profiles: list[DeviceProfile], firmware: Firmware
) -> None:
    """§2.4 lets a watch refuse Prepare Write on Program; the firmware does (the simulator
    takes it, which §2.4 allows too)."""
    device = (await found(link, profiles, firmware)).device
    async with BleakClient(device, backend=BumbleBleakClient, hci=link, pair=True) as client:
        connection = client._backend._connection  # type: ignore[attr-defined]
        handle = client.services.get_characteristic(str(U.PROGRAM)).handle
        request = att.ATT_Prepare_Write_Request(
            attribute_handle=handle, value_offset=0, part_attribute_value=CHUNK[:16]
        )
        response = await connection.gatt_client.send_request(request)
        assert isinstance(response, att.ATT_Error_Response)
        assert response.error_code == 0x06  # Request Not Supported (§2.4, §11)
        info = TimerInfo.from_bytes(bytes(await client.read_gatt_char(str(U.TIMER_INFO))))
        assert not info.flags & InfoFlags.STAGING
