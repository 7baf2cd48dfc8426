"""§2: the service, its characteristics and their security, seen from a bleak client."""

from __future__ import annotations

import asyncio

import pytest
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakGATTProtocolError

from tests.watches.wearsync_timer.sim.conftest import StartWatch
from tests.watches.wearsync_timer.sim.helpers import (
    CONTROL_POINT,
    CURRENT_TIME,
    EVENT_LOG,
    LOCAL_TIME,
    PROGRAM,
    SESSION_STATUS,
    TIMER_INFO,
    connected,
    read_info,
)
from wearsync.ble import make_scanner
from wearsync.profiles import load_profiles, match_profile
from wearsync.watches.wearsync_timer.codec import (
    PROTOCOL_VERSION,
    Feature,
    InfoFlags,
    PauseSession,
    ReplayEvents,
    StopSession,
)
from wearsync.watches.wearsync_timer.codec import uuids as U
from wearsync.watches.wearsync_timer.sim.watch import DEFAULT_NAME, SimWatch

CCCD = "00002902-0000-1000-8000-00805f9b34fb"


async def test_discovery_shows_the_service_with_the_properties_of_table_2_2(
    watch: SimWatch,
) -> None:
    async with connected(watch, pair=False) as client:
        service = client.services.get_service(str(U.TIMER_SERVICE))
        assert service is not None
        props = {c.uuid: set(c.properties) for c in service.characteristics}
        assert props == {
            TIMER_INFO: {"read"},
            PROGRAM: {"write", "write-without-response"},
            CONTROL_POINT: {"write"},
            SESSION_STATUS: {"read", "notify"},
            EVENT_LOG: {"read", "notify"},
        }
        for uuid in (SESSION_STATUS, EVENT_LOG):
            char = client.services.get_characteristic(uuid)
            assert char is not None and [d.uuid for d in char.descriptors] == [CCCD]
        cts = client.services.get_service(str(U.CURRENT_TIME_SERVICE))
        assert cts is not None
        assert {c.uuid: set(c.properties) for c in cts.characteristics} == {
            CURRENT_TIME: {"read", "write", "notify"},
            LOCAL_TIME: {"read", "write", "write-without-response"},
        }


async def test_timer_info_is_readable_unpaired(watch: SimWatch) -> None:
    async with connected(watch, pair=False) as client:
        info = await read_info(client)
    assert len(bytes(info)) == 40
    assert info.features == Feature(0x2F)  # table 3-1 but ENTRIES (opt-in), STATE_BEACON too
    assert info.flags == InfoFlags(0)
    assert (info.max_program_length, info.event_capacity) == (4096, 256)
    assert info.boot_id == 1 and info.unacked_events == 0
    assert not info.has_program and info.program_identity == bytes(16)
    assert bytes(info)[0] == PROTOCOL_VERSION


async def test_timer_info_at_mtu_23_is_read_with_a_blob_from_one_snapshot(
    watch: SimWatch,
) -> None:
    tap = watch.tap
    async with connected(watch, pair=False, mtu=23) as client:
        mark = tap.current.mark()
        info = await read_info(client)
        assert tap.current.since(mark).by_opcode() == {
            "ATT_READ_REQUEST": 1,
            "ATT_READ_RESPONSE": 1,
            "ATT_READ_BLOB_REQUEST": 1,
            "ATT_READ_BLOB_RESPONSE": 1,
        }
    assert info.boot_id == 1


async def test_a_profile_matching_scan_finds_the_watch(watch: SimWatch) -> None:
    scanner = make_scanner(hci=watch.link)
    found: AdvertisementData | None = None
    async with scanner, asyncio.timeout(2.0):
        async for device, advertised in scanner.advertisement_data():
            if device.address == watch.address:
                found = advertised
                break
    assert found is not None
    data = found
    assert data.local_name == DEFAULT_NAME
    profile = match_profile(data.local_name, data.service_uuids, load_profiles())
    assert profile is not None and profile.id == "wearsync-timer"
    # A renamed watch is still recognised by its service UUID.
    assert match_profile("Some Watch", data.service_uuids, load_profiles()) == profile


async def test_a_watch_without_optional_features(start_watch: StartWatch) -> None:
    watch = await start_watch(features=Feature(0))
    async with connected(watch) as client:
        assert client.services.get_service(str(U.CURRENT_TIME_SERVICE)) is None
        await client.start_notify(EVENT_LOG, lambda _c, _v: None)
        for request in (ReplayEvents(), StopSession(), PauseSession()):
            with pytest.raises(BleakGATTProtocolError) as caught:
                await client.write_gatt_char(CONTROL_POINT, bytes(request), response=True)
            assert caught.value.code == 0x80
        assert (await read_info(client)).features == Feature(0)
