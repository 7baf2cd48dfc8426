"""A day of ``wearsync serve`` against the simulated watch, with and without the state beacon.

96 checks, one every 15 minutes, after a first sync; the wearer runs the foot-care routine once,
after check 40. "Before" connects at every check (``full_every=0``: what ``serve`` did before
docs/protocol.md §14); "after" connects only when the beacon says so. Counted, not guessed:
connections and ATT round trips are the watch's ATT tap (one trace per connection, requests
plus indications), so connection setup (MTU exchange, discovery) is included. Both columns
use the bumble backend's GATT cache (docs/ble-backend.md); without it (and without the beacon)
the same day measured 96 connections, 1641 round trips, 21 for the sync with events.
Radio-on time is not modelled: the virtual link has no air timing.

The watch runs on a :class:`ManualClock` that moves only through the session (an idle watch
does nothing between checks); its UTC clock is put back in step after the session, as a watch
whose clock keeps time would be. The daemon itself runs at once, check after check.

    uv run python scripts/bench_beacon.py
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

CHECKS = 96
SESSION_AFTER = 40


@dataclass
class Day:
    mode: str
    connections: int
    round_trips: int
    per_connection: list[int]
    events_sync_round_trips: int
    events_sync_requests: list[str]


async def one_day(mode: str, home: Path) -> Day:
    from wearsync.ble.bumble_backend import close_centrals
    from wearsync.records import utc_now
    from wearsync.sim.clock import ManualClock
    from wearsync.sim.link import VirtualLink
    from wearsync.store import Store
    from wearsync.sync.daemon import SyncDaemon
    from wearsync.watches import registry
    from wearsync.watches.wearsync_timer.codec.status import SessionState
    from wearsync.watches.wearsync_timer.sim.watch import SimWatch

    os.environ["WEARSYNC_HOME"] = str(home)
    link, clock = VirtualLink(), ManualClock()
    watch = await SimWatch.start(link, flash_dir=home / "flash", clock=clock, utc=utc_now())
    events_sync = 0
    events_requests: list[str] = []
    with Store.open(home / "wearsync.db") as store:
        serve = SyncDaemon(
            store=store,
            routine="foot-care",
            profiles=registry.load_profiles(),
            drivers=registry.driver_for,
            every=timedelta(minutes=15),
            device=watch.address,
            hci=link,
            scan_seconds=5,
            full_every=timedelta(0) if mode == "before" else timedelta(hours=24),
        )
        await serve.check_once()  # the first sync pairs: not part of the day
        watch.tap.reset()
        for check in range(CHECKS):
            if check == SESSION_AFTER:
                await watch.press_start()
                for _ in range(600):
                    await clock.advance(10_000)
                    if watch.state is SessionState.IDLE:
                        break
                watch.set_utc(utc_now())
            await watch.drain()
            await watch.beacon_settled()
            before = len(watch.tap.connections)
            report = await serve.check_once()
            if report is not None and report.events_new and not events_sync:
                trace = watch.tap.connections[before]
                events_sync = trace.round_trips
                events_requests = [
                    p.name.removeprefix("ATT_") for p in trace.pdus if p.direction == "rx"
                ]
    traces = watch.tap.connections
    await watch.close()
    await close_centrals()
    per = [trace.round_trips for trace in traces]
    return Day(mode, len(traces), sum(per), per, events_sync, events_requests)


FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware" / "build"
#: The firmware's watch time runs this much faster, so that its session takes seconds.
FIRMWARE_SPEED = 200.0


async def firmware_day(mode: str, home: Path, binary: Path) -> Day:
    """The same day against the NimBLE firmware (real time, watch time x FIRMWARE_SPEED)."""
    import json
    import signal

    from wearsync.ble.bumble_backend import close_centrals
    from wearsync.sim.att_tap import AttTap
    from wearsync.sim.hci_server import HciServer
    from wearsync.sim.link import VirtualLink
    from wearsync.store import Store
    from wearsync.sync.daemon import SyncDaemon
    from wearsync.watches import registry

    os.environ["WEARSYNC_HOME"] = str(home)
    link = VirtualLink()
    (home / "fw").mkdir(parents=True)
    events_sync, events_requests = 0, []
    async with HciServer(link, 0) as server:
        process = await asyncio.create_subprocess_exec(
            str(binary),
            "--hci-port",
            str(server.port),
            "--dir",
            str(home / "fw"),
            "--time-scale",
            str(FIRMWARE_SPEED),
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

        reader = asyncio.create_task(read())
        try:
            await line("ready")
            address = str(next(item for item in lines if item["type"] == "ready")["address"])
            tap = AttTap(link, subject=address)
            with Store.open(home / "wearsync.db") as store:
                serve = SyncDaemon(
                    store=store,
                    routine="foot-care",
                    profiles=registry.load_profiles(),
                    drivers=registry.driver_for,
                    every=timedelta(minutes=15),
                    device=address,
                    hci=link,
                    scan_seconds=10,
                    full_every=timedelta(0) if mode == "before" else timedelta(hours=24),
                )
                await serve.check_once()
                await asyncio.sleep(0.2)  # untimed: let the beacon catch up with the sync
                tap.reset()
                for check in range(CHECKS):
                    if check == SESSION_AFTER:
                        process.stdin.write(b"start\n")
                        await process.stdin.drain()
                        await line("session_completed", "kind")
                        await asyncio.sleep(0.2)
                    before = len(tap.connections)
                    report = await serve.check_once()
                    if report is not None and report.events_new and not events_sync:
                        trace = tap.connections[before]
                        events_sync = trace.round_trips
                        events_requests = [
                            p.name.removeprefix("ATT_") for p in trace.pdus if p.direction == "rx"
                        ]
                    await asyncio.sleep(0.05)
            traces = list(tap.connections)
            tap.close()
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            await process.wait()
            await reader
            await close_centrals()
    per = [trace.round_trips for trace in traces]
    return Day(mode, len(traces), sum(per), per, events_sync, events_requests)


def report(days: list[Day], what: str) -> None:
    print(
        f"a day of wearsync serve: {CHECKS} checks every 15 min, one session after check "
        f"{SESSION_AFTER}, {what}"
    )
    print(f"{'':8} {'connections':>12} {'ATT round trips':>16} {'sync with events':>17}")
    for day in days:
        print(
            f"{day.mode:8} {day.connections:>12} {day.round_trips:>16} "
            f"{day.events_sync_round_trips:>17}"
        )
    for day in days:
        print(f"{day.mode}: round trips per connection {sorted(set(day.per_connection))}")
    after = days[1]
    quiet = after.connections - 1
    print(f"checks with nothing new that connected (after): {max(quiet, 0)} (target 0)")
    print(
        f"round trips of the sync that collected the session (after): "
        f"{after.events_sync_round_trips} (target 6; connection setup included)"
    )
    print(f"what the client sent in it: {', '.join(after.events_sync_requests)}")


async def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        days = [await one_day(mode, Path(tmp) / f"sim-{mode}") for mode in ("before", "after")]
        report(days, "simulated watch")
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
            await firmware_day(mode, Path(tmp) / f"fw-{mode}", binary)
            for mode in ("before", "after")
        ]
        report(days, f"NimBLE firmware ({binary.parent.name}, watch time x{FIRMWARE_SPEED:g})")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
