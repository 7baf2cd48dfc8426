"""``wearsync devices scan`` recognises every kind of simulated watch with the right profile,
from what it advertises alone."""

from __future__ import annotations

from pathlib import Path

from tests.watches.conftest import needs_node
from wearsync.ble.connection import scan
from wearsync.profiles import load_profiles
from wearsync.sim.link import VirtualLink
from wearsync.watches.bangle.sim import SimBangle
from wearsync.watches.host_timed.sim import SimInfiniTime
from wearsync.watches.wearsync_timer.sim.watch import SimWatch


@needs_node
async def test_every_kind_of_watch_gets_its_profile(link: VirtualLink, tmp_path: Path) -> None:
    timer = await SimWatch.start(link, flash_dir=tmp_path / "timer")
    try:
        async with (
            SimBangle(link, tmp_path / "bangle.json") as bangle,
            SimInfiniTime(link) as pinetime,
            SimInfiniTime(link, kind="band") as band,
        ):
            found = await scan(load_profiles(), hci=link, seconds=1.0)
            profiles = {watch.address: watch.profile.id for watch in found}
            assert profiles == {
                timer.address: "wearsync-timer",
                bangle.address: "bangle-js-2",
                pinetime.address: "infinitime",
                band.address: "immediate-alert",
            }
            drivers = {watch.profile.id: watch.profile.driver.name for watch in found}
            assert drivers == {
                "wearsync-timer": "wearsync-timer",
                "bangle-js-2": "espruino-uart",
                "infinitime": "host-timed",
                "immediate-alert": "host-timed",
            }
    finally:
        await timer.close()
