"""§2.2-§2.3 on both watches: what an unpaired client is refused, what a bond keeps.

An unencrypted access to an encrypted characteristic gets 0x05 (Insufficient Authentication)
from a watch without a bond for the client, and 0x0F (Insufficient Encryption) from one that
has a bond the link is not yet encrypted with.
"""

from __future__ import annotations

import pytest
from bleak.exc import BleakGATTProtocolError

from tests.watches.wearsync_timer.both.watch import TimerWatch, connected, read_info
from tests.watches.wearsync_timer.sim.helpers import (
    CONTROL_POINT,
    CURRENT_TIME,
    EVENT_LOG,
    LOCAL_TIME,
    PROGRAM,
    SESSION_STATUS,
)
from wearsync.watches.wearsync_timer.codec import InfoFlags, ProgramChunk, ReplayEvents

#: Every encrypted characteristic, with a value to write (``None``: read it). Each write would
#: change something if it got through.
PROTECTED: list[tuple[str, bytes | None]] = [
    (PROGRAM, bytes(ProgramChunk(5, 0, b"\x01\x00\x00\x01\xff"))),
    (CONTROL_POINT, bytes(ReplayEvents())),
    (CONTROL_POINT, bytes([0x02])),  # ABORT_STAGED
    (SESSION_STATUS, None),
    (EVENT_LOG, None),
    (LOCAL_TIME, b"\x00\x00"),
    (CURRENT_TIME, bytes(10)),
]


async def test_an_unpaired_client_gets_insufficient_authentication_everywhere_but_timer_info(
    timer_watch: TimerWatch,
) -> None:
    async with connected(timer_watch, pair=False, services=None) as client:
        info = await read_info(client)  # readable unencrypted (§2.2)
        assert len(bytes(info)) == 40
        for uuid, value in PROTECTED:
            with pytest.raises(BleakGATTProtocolError) as caught:
                if value is None:
                    await client.read_gatt_char(uuid)
                else:
                    await client.write_gatt_char(uuid, value, response=True)
            assert caught.value.code == 0x05, uuid
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.start_notify(EVENT_LOG, lambda _c, _v: None)
        assert caught.value.code == 0x05, "a CCCD write"
        # Nothing was staged by the refused Program write (§2.3): STAGING is clear.
        assert not (await read_info(client)).flags & InfoFlags.STAGING


async def test_a_bonded_peer_on_a_plain_link_gets_insufficient_encryption(
    timer_watch: TimerWatch,
) -> None:
    async with connected(timer_watch) as client:
        assert len(await client.read_gatt_char(SESSION_STATUS)) == 7
        await client.unpair()  # the central forgets its keys; the watch keeps the bond
    async with connected(timer_watch, pair=False) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.read_gatt_char(SESSION_STATUS)
        assert caught.value.code == 0x0F


async def test_the_bond_survives_a_reboot(timer_watch: TimerWatch) -> None:
    async with connected(timer_watch) as client:
        assert len(await client.read_gatt_char(SESSION_STATUS)) == 7
    for reboot in (False, True):
        if reboot:
            await timer_watch.reboot()
        async with connected(timer_watch, pair=False) as client:
            # Encrypted again with the stored bond, without pairing.
            assert len(await client.read_gatt_char(SESSION_STATUS)) == 7


async def test_a_bonded_clients_cccds_are_kept_across_links_and_a_reboot(
    timer_watch: TimerWatch,
) -> None:
    replay = bytes(ReplayEvents())
    async with connected(timer_watch) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.write_gatt_char(CONTROL_POINT, replay, response=True)
        assert caught.value.code == 0xFD, "REPLAY_EVENTS needs notifications (§9.5.2)"
        await client.start_notify(EVENT_LOG, lambda _c, _v: None)
        await client.write_gatt_char(CONTROL_POINT, replay, response=True)
    for reboot in (False, True):
        if reboot:
            await timer_watch.reboot()
        async with connected(timer_watch, pair=False) as client:
            # No CCCD write on this link: the subscription came back with the bond (§2.3).
            assert len(await client.read_gatt_char(SESSION_STATUS)) == 7  # encrypted
            await client.write_gatt_char(CONTROL_POINT, replay, response=True)
