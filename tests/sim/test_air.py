"""The virtual link's air log (wearsync.sim.air): what a connection puts on air, counted from
the PDUs that really crossed the link, and the sizes the radio-on model gives them."""

from __future__ import annotations

from pathlib import Path

from tests.watches.wearsync_timer.driver.conftest import found
from wearsync.profiles import DeviceProfile
from wearsync.routine import load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.air import (
    EVENT_OVERHEAD_US,
    LL_FRAME_OVERHEAD,
    MIC_BYTES,
    advertising_event_us,
    data_pdu_air_bytes,
)
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SyncContext
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.sim.watch import SimWatch


def test_an_l2cap_pdu_longer_than_the_data_length_is_two_ll_pdus_each_with_its_framing() -> None:
    assert data_pdu_air_bytes(27, encrypted=False) == (1, 27 + LL_FRAME_OVERHEAD)
    assert data_pdu_air_bytes(300, encrypted=True) == (
        2,
        300 + 2 * (LL_FRAME_OVERHEAD + MIC_BYTES),
    )
    # An empty event: an empty PDU each way (10 bytes, 80 us each) and T_IFS.
    assert EVENT_OVERHEAD_US == 310
    # Three ADV_INDs of 31 data bytes (47 bytes, 376 us) each with T_IFS and a 56 us listen.
    assert advertising_event_us(31) == 3 * (376 + 150 + 56)


async def test_a_sync_is_one_encrypted_connection_with_both_sides_on_air(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    watch = await SimWatch.start(link, flash_dir=tmp_path / "flash", clock=clock)
    try:
        ctx = SyncContext.of(
            store,
            await found(link, profiles, watch),
            load_routine("foot-care"),
            builtin_text("foot-care"),
            hci=link,
        )
        link.air.reset()
        await registry.driver_for(ctx.watch.profile).sync(ctx)
        await watch.drain()
    finally:
        await watch.close()
    (connection,) = link.air.connections_of(watch.address)
    assert connection.closed is not None and connection.encrypted
    central = connection.central
    assert connection.peripheral == watch.address
    # The program (about 210 bytes) went from the central, notifications from the watch.
    assert connection.tx_bytes[central] > 210 and connection.tx_bytes[watch.address] > 0
    assert connection.radio_on_us() > connection.events * EVENT_OVERHEAD_US
    assert link.air.scanner(central).initiating_s > 0
