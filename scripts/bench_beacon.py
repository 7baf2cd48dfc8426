"""A day of ``wearsync serve`` against each simulated watch, before and after the state beacon.

96 checks, one every 15 minutes, after a first sync (which pairs, and is not counted); the
wearer runs the foot-care routine once, after check 40. Two watches: the Python timer
simulator and the NimBLE firmware (if built: ``make -C firmware``).

- **before** is ``serve`` as it was before docs/protocol.md §14: an active scan and a
  connection at every check, and a full GATT discovery on every connection.
- **after** is ``serve`` now: a passive scan (no SCAN_REQ), a connection only when the beacon
  says so (or once a day), and the bonded watch's GATT layout reused while its Database Hash
  is unchanged (the firmware serves one since firmware/src/gatt_svc.c).

Counted, not guessed: connections and ATT round trips come from the watch's ATT tap (requests
plus indications, connection setup included); scans, scan requests, connections and every
PDU with its size from the virtual link's air log (:mod:`wearsync.sim.air`), on a link that
holds every PDU for the next connection event (``--connection-event-ms``, 30 by default).

Radio-on time is the model of :mod:`wearsync.sim.air` applied to what the link recorded
(LE 1M PHY, 8 µs per byte):

- a connection: its connection events (duration / interval) x 310 µs (an empty PDU each way
  and T_IFS), plus every LL PDU sent (payload + 10 bytes of preamble, access address, header
  and CRC, + a 4-byte MIC once encrypted; L2CAP PDUs cut at 251 bytes) and one T_IFS each.
  Both radios are on for it; it is counted once per side.
- the companion's scans: the time each scan was enabled (the receiver on: window = interval),
  plus the time spent initiating a connection, plus for an active scan a SCAN_REQ (22 bytes)
  and T_IFS per advertisement heard.
- the watch: every SCAN_RSP it sent, and advertising at the interval it configured (3
  channels x (ADV_IND + T_IFS + a 56 µs listen)) for the day less its connected time. The
  advertising term is the same before and after and is printed on its own.

The firmware's watch time runs x200 (so that its session takes seconds), so its clock is far
off after the session and the sync that collects it also sets the clock (Local Time and
Current Time writes: one round trip more than on a watch whose clock keeps time; the Python
simulator's clock is put back in step instead, and tests/firmware/test_firmware_gatt_cache.py
shows the 6 round trips at real-time speed).

The daemon's checks follow each other at once (the watches' clocks do not move between
checks), so scan and connection durations are what the simulation took, host processing
included: the simulators advertise every 20 ms, so a passive scan lasts tens of ms.

Measured here (2 shared cores, 30 ms connection events; the day takes about 5 minutes):

    watch       mode    connections  ATT RTs  sync w/ events  SCAN_REQs  companion  watch
    simulator   before           96     1882              23        101    6213 ms  2909 ms
    simulator   after             1        6               6          0    2141 ms    34 ms
    firmware    before           96     2020              25         96    7542 ms  3137 ms
    firmware    after             1        7               7          0    2008 ms    36 ms

    uv run python scripts/bench_beacon.py [--connection-event-ms 30] [--only sim|firmware]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wearsync.sim.air import AirLog
    from wearsync.sim.att_tap import AttTap
    from wearsync.sim.link import VirtualLink
    from wearsync.sync.daemon import SyncDaemon

CHECKS = 96
SESSION_AFTER = 40
DAY_S = 86400.0
FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware" / "build"
#: The firmware's watch time runs this much faster, so that its session takes seconds.
FIRMWARE_SPEED = 200.0


@dataclass
class Day:
    mode: str
    connections: int = 0
    round_trips: int = 0
    per_connection: list[int] = field(default_factory=list)
    events_sync_round_trips: int = 0
    events_sync_requests: list[str] = field(default_factory=list)
    scan_requests: int = 0
    scan_s: float = 0.0
    initiating_s: float = 0.0
    connection_events: int = 0
    connection_radio_s: float = 0.0
    companion_radio_s: float = 0.0
    watch_radio_s: float = 0.0
    advertising_radio_s: float = 0.0
    advertising_interval_ms: float = 0.0


@dataclass
class Watch:
    """One simulated watch under the benchmark."""

    address: str
    tap: AttTap
    session: Callable[[], Awaitable[None]]
    settle: Callable[[], Awaitable[None]]


def _advertising(link: VirtualLink, address: str) -> tuple[float, int]:
    """(interval in s, advertising data bytes) the watch's controller was configured with."""
    controller = link.find_le_controller(_address(address))
    if controller is None:
        return 0.0, 0
    legacy = controller.le_legacy_advertiser
    if legacy.advertising_interval_min:
        return legacy.advertising_interval_min * 0.625e-3, len(legacy.advertising_data)
    for advertising_set in controller.advertising_sets.values():
        if advertising_set.parameters is not None:
            interval = advertising_set.parameters.primary_advertising_interval_min * 0.625e-3
            return interval, len(advertising_set.data)
    return 0.0, 0


def _address(text: str) -> Any:
    from bumble import hci

    return hci.Address(text, hci.Address.RANDOM_DEVICE_ADDRESS)


def measure(day: Day, air: AirLog, link: VirtualLink, watch: Watch) -> None:
    """Fill ``day`` from the tap and the air log (the radio-on model of wearsync.sim.air)."""
    from wearsync.sim.air import T_IFS_US, US_PER_BYTE, advertising_event_us, scan_request_us

    traces = watch.tap.connections
    day.per_connection = [trace.round_trips for trace in traces]
    day.connections, day.round_trips = len(traces), sum(day.per_connection)
    connections = air.connections_of(watch.address)
    day.connection_events = sum(c.events for c in connections)
    day.connection_radio_s = sum(c.radio_on_us() for c in connections) / 1e6
    scans = [s for a, s in air.scanners.items() if a != watch.address]
    day.scan_requests = sum(s.scan_requests for s in scans)
    day.scan_s = sum(s.active_s + s.passive_s for s in scans)
    day.initiating_s = sum(s.initiating_s for s in scans)
    response_bytes = air.scan_response_bytes[watch.address]
    requests_received = air.scan_requests_received[watch.address]
    scan_request_air_s = requests_received * (22 * US_PER_BYTE + T_IFS_US) / 1e6
    day.companion_radio_s = (
        day.scan_s + day.initiating_s + scan_request_air_s + day.connection_radio_s
    )
    interval, length = _advertising(link, watch.address)
    connected_s = sum((c.closed or c.opened) - c.opened for c in connections)
    if interval > 0:
        day.advertising_interval_ms = interval * 1e3
        events = (DAY_S - connected_s) / interval
        day.advertising_radio_s = events * advertising_event_us(length) / 1e6
    average_response = response_bytes / requests_received - 16 if requests_received else 0
    day.watch_radio_s = (
        requests_received * scan_request_us(int(average_response)) / 1e6 + day.connection_radio_s
    )


async def run_day(
    mode: str,
    home: Path,
    link: VirtualLink,
    watch: Watch,
    *,
    scan_seconds: float,
) -> Day:
    """The day of checks (see the module docstring) against a started watch."""
    from wearsync.ble.bumble_backend import central as centrals
    from wearsync.ble.bumble_backend.gatt import GattLayout
    from wearsync.ble.bumble_backend.gatt_cache import CacheKey, GattCache
    from wearsync.store import Store
    from wearsync.sync.daemon import SyncDaemon
    from wearsync.sync.driver import locate_watch
    from wearsync.watches import registry

    class NoCache(GattCache):
        """What the bumble backend did before: discover on every connection."""

        def put(self, key: CacheKey, layout: GattLayout) -> None:
            del key, layout

    class Before(SyncDaemon):
        """``serve`` before §14: found by an active scan, synced at every check."""

        async def locate(self) -> Any:
            return await locate_watch(
                self.store, self.profiles, device=self.device, hci=self.hci, seconds=5
            )

    day = Day(mode)
    with Store.open(home / "wearsync.db") as store:
        kind = Before if mode == "before" else SyncDaemon
        serve: SyncDaemon = kind(
            store=store,
            routine="foot-care",
            profiles=registry.load_profiles(),
            drivers=registry.driver_for,
            every=timedelta(minutes=15),
            device=watch.address,
            hci=link,
            scan_seconds=scan_seconds,
            full_every=timedelta(0) if mode == "before" else timedelta(hours=24),
            remind=False,
        )
        if mode == "before":
            (await centrals.get_central(link)).gatt_cache = NoCache()
        await serve.check_once()  # the first sync pairs: not part of the day
        await watch.settle()
        watch.tap.reset()
        link.air.reset()
        for check in range(CHECKS):
            if check == SESSION_AFTER:
                await watch.session()
            await watch.settle()
            before = len(watch.tap.connections)
            report = await serve.check_once()
            if report is not None and report.events_new and not day.events_sync_round_trips:
                trace = watch.tap.connections[before]
                day.events_sync_round_trips = trace.round_trips
                day.events_sync_requests = [
                    p.name.removeprefix("ATT_") for p in trace.pdus if p.direction == "rx"
                ]
        measure(day, link.air, link, watch)
    return day


@contextlib.asynccontextmanager
async def simulated_watch(home: Path, link: VirtualLink) -> AsyncIterator[Watch]:
    from wearsync.records import utc_now
    from wearsync.sim.clock import ManualClock
    from wearsync.watches.wearsync_timer.codec.status import SessionState
    from wearsync.watches.wearsync_timer.sim.watch import SimWatch

    clock = ManualClock()
    sim = await SimWatch.start(link, flash_dir=home / "flash", clock=clock, utc=utc_now())

    async def session() -> None:
        await sim.press_start()
        for _ in range(600):
            await clock.advance(10_000)
            if sim.state is SessionState.IDLE:
                break
        sim.set_utc(utc_now())  # a watch whose clock keeps time would be in step

    async def settle() -> None:
        await sim.drain()
        await sim.beacon_settled()

    try:
        yield Watch(sim.address, sim.tap, session, settle)
    finally:
        await sim.close()


@contextlib.asynccontextmanager
async def firmware_watch(home: Path, link: VirtualLink, binary: Path) -> AsyncIterator[Watch]:
    import json
    import signal

    from wearsync.sim.att_tap import AttTap
    from wearsync.sim.hci_server import HciServer

    (home / "fw").mkdir(parents=True)
    async with HciServer(link, 0) as server:
        process = await asyncio.create_subprocess_exec(
            *(str(binary), "--hci-port", str(server.port), "--dir", str(home / "fw")),
            *("--time-scale", str(FIRMWARE_SPEED)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert process.stdout is not None and process.stdin is not None
        lines: list[dict[str, object]] = []
        got = asyncio.Event()

        async def read() -> None:
            assert process.stdout is not None
            async for raw in process.stdout:
                lines.append(json.loads(raw))
                got.set()

        async def line(kind: str, key: str = "type") -> None:
            async with asyncio.timeout(60):
                while not any(item.get(key) == kind for item in lines):
                    got.clear()
                    await got.wait()

        async def session() -> None:
            assert process.stdin is not None
            process.stdin.write(b"start\n")
            await process.stdin.drain()
            await line("session_completed", "kind")

        async def settle() -> None:
            await asyncio.sleep(0.2)  # untimed: let the beacon catch up with the watch

        reader = asyncio.create_task(read())
        tap: AttTap | None = None
        try:
            await line("ready")
            address = str(next(item for item in lines if item["type"] == "ready")["address"])
            tap = AttTap(link, subject=address)
            yield Watch(address, tap, session, settle)
        finally:
            if tap is not None:
                tap.close()
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            await process.wait()
            await reader


async def one_day(
    mode: str, home: Path, event_ms: float, binary: Path | None = None
) -> tuple[Day, AirLog]:
    from wearsync.sim.link import VirtualLink

    os.environ["WEARSYNC_HOME"] = str(home)
    os.makedirs(home)
    link = VirtualLink(connection_event_ms=event_ms)
    watch = simulated_watch(home, link) if binary is None else firmware_watch(home, link, binary)
    async with watch as under_test:
        day = await run_day(mode, home, link, under_test, scan_seconds=10)
    from wearsync.ble.bumble_backend import close_centrals

    await close_centrals()  # after the watch: it does not re-advertise into a closed loop
    return day, link.air


def report(days: list[Day], what: str, event_ms: float) -> None:
    print(
        f"a day of wearsync serve: {CHECKS} checks every 15 min, one session after check "
        f"{SESSION_AFTER}; {what}; connection events every {event_ms:g} ms"
    )
    header = (
        f"{'':7} {'connections':>11} {'ATT RTs':>8} {'sync w/ events':>14} {'SCAN_REQs':>9} "
        f"{'conn events':>11} {'companion radio':>15} {'watch radio':>11}"
    )
    print(header)
    for d in days:
        print(
            f"{d.mode:7} {d.connections:>11} {d.round_trips:>8} {d.events_sync_round_trips:>14} "
            f"{d.scan_requests:>9} {d.connection_events:>11} "
            f"{d.companion_radio_s * 1e3:>12.1f} ms {d.watch_radio_s * 1e3:>8.1f} ms"
        )
    for d in days:
        print(
            f"{d.mode}: round trips per connection {sorted(set(d.per_connection))}; companion "
            f"radio = scans {d.scan_s * 1e3:.1f} ms + initiating {d.initiating_s * 1e3:.1f} ms "
            f"+ connections {d.connection_radio_s * 1e3:.1f} ms (+ SCAN_REQs); the watch also "
            f"advertises every {d.advertising_interval_ms:g} ms: "
            f"{d.advertising_radio_s:.0f} s of radio a day, before and after alike"
        )
    after = days[-1]
    print(f"checks with nothing new that connected (after): {max(after.connections - 1, 0)}")
    print(
        f"round trips of the sync that collected the session (after): "
        f"{after.events_sync_round_trips} (target 6; connection setup included): "
        f"{', '.join(after.events_sync_requests)}"
    )
    print(
        "radio-on model (wearsync.sim.air, LE 1M PHY): connection events x 310 us + bytes on "
        "air x 8 us (+10 B framing, +4 B MIC encrypted) + T_IFS per PDU; scans: time enabled; "
        "SCAN_REQ/SCAN_RSP per advertisement heard actively"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connection-event-ms", type=float, default=30.0)
    parser.add_argument("--only", choices=("sim", "firmware"))
    args = parser.parse_args()
    if not 1 <= args.connection_event_ms <= 4000:
        print("error: --connection-event-ms must be within 1..4000", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    event_ms = args.connection_event_ms
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "firmware":
            days = [
                (await one_day(mode, Path(tmp) / f"sim-{mode}", event_ms))[0]
                for mode in ("before", "after")
            ]
            report(days, "Python timer simulator", event_ms)
        if args.only == "sim":
            return 0
        binary = next(
            (
                FIRMWARE_DIR / v / "wearsync-fw"
                for v in ("release", "asan")
                if (FIRMWARE_DIR / v / "wearsync-fw").exists()
            ),
            None,
        )
        if binary is None:
            print("firmware not built (make -C firmware): its day is skipped")
            return 0
        print()
        days = [
            (await one_day(mode, Path(tmp) / f"fw-{mode}", event_ms, binary))[0]
            for mode in ("before", "after")
        ]
        what = f"NimBLE firmware ({binary.parent.name}, watch time x{FIRMWARE_SPEED:g})"
        report(days, what, event_ms)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
