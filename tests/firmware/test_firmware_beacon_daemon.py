"""``wearsync serve`` against the NimBLE firmware's beacon: issue 15's list of what triggers a
connection (a changed program, a reboot that lost the clock, a lost bond) and what never is
connected to (a watch it does not know). Connections are counted by the ATT tap on the link."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.firmware.conftest import Firmware, start_firmware
from tests.firmware.test_firmware_beacon import until_state, wanted
from tests.watches.conftest import SHORT_ROUTINE
from wearsync.ble.bumble_backend.central import get_central
from wearsync.profiles import DeviceProfile
from wearsync.sim.att_tap import AttTap
from wearsync.sim.hci_server import HciServer
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.daemon import SyncDaemon
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.codec.beacon import BeaconState
from wearsync.watches.wearsync_timer.codec.status import SessionState


class Served:
    """The daemon after its first sync of the firmware, and a tap counting connections."""

    def __init__(
        self, serve: SyncDaemon, tap: AttTap, link: VirtualLink, address: str, identity: bytes
    ) -> None:
        self.serve, self.tap, self.link, self.address = serve, tap, link, address
        self.identity = identity
        self.synced = self.state(events_waiting=False, clock_set=True, session=SessionState.IDLE)

    def state(self, *, events_waiting: bool, clock_set: bool, session: SessionState) -> BeaconState:
        """A beacon state of the watch holding the synced program."""
        return BeaconState(self.identity, events_waiting, clock_set, session)

    async def check(self) -> bool:
        """One tick; True when it connected (the tap saw a connection too)."""
        before = len(self.tap.connections)
        report = await self.serve.check_once()
        assert (report is not None) == (len(self.tap.connections) > before)
        return report is not None


@pytest.fixture
async def served(
    firmware: Firmware, link: VirtualLink, store: Store, profiles: list[DeviceProfile]
) -> AsyncIterator[Served]:
    address = firmware.ready["address"]
    tap = AttTap(link, subject=address)
    serve = SyncDaemon(
        store=store,
        routine="foot-care",
        profiles=profiles,
        drivers=registry.driver_for,
        every=timedelta(minutes=15),
        hci=link,
        scan_seconds=10,
    )
    assert await serve.check_once() is not None  # first sync: pairs, pushes, sets the clock
    served = Served(serve, tap, link, address, wanted(store))
    await until_state(link, address, served.synced)
    yield served
    tap.close()


async def test_a_changed_program_connects(served: Served, tmp_path: Path) -> None:
    assert not await served.check()
    other = tmp_path / "short.toml"
    other.write_text(SHORT_ROUTINE)
    served.serve.routine = str(other)
    assert await served.check()


async def test_a_reboot_that_lost_the_clock_connects_once(
    served: Served, firmware: Firmware
) -> None:
    await firmware.restart()  # the firmware keeps no UTC across a reboot: CLOCK_SET clears
    lost = served.state(events_waiting=False, clock_set=False, session=SessionState.IDLE)
    await until_state(served.link, served.address, lost)
    assert await served.check()
    await until_state(served.link, served.address, served.synced)
    assert not await served.check()


async def test_a_lost_bond_connects(served: Served) -> None:
    keystore = (await get_central(served.link)).device.keystore
    assert keystore is not None
    for name, _keys in await keystore.get_all():
        await keystore.delete(name)
    assert await served.check()  # no key: the beacon cannot be read


async def test_an_unknown_firmware_watch_is_never_connected_to(
    served: Served, hci_server: HciServer, tmp_path: Path, firmware: Firmware
) -> None:
    stranger = await start_firmware(hci_server, tmp_path / "stranger")
    strange = AttTap(served.link, subject=stranger.ready["address"])
    try:
        assert not await served.check()
        await firmware.press("start")
        await until_state(
            served.link,
            served.address,
            served.state(events_waiting=True, clock_set=True, session=SessionState.RUNNING),
        )
        assert await served.check()
        assert strange.connections == []
    finally:
        strange.close()
        await stranger.stop()
