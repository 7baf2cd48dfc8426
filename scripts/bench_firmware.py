"""What a sync costs on the air against the NimBLE reference firmware, beside the simulator.

Both watches run on a :class:`~wearsync.sim.link.VirtualLink` holding each PDU until the next
connection event (30 ms by default); the firmware (``firmware/build/release/wearsync-fw``) is a
process attached over ``HciServer``. The ATT tap on the link counts, for whole connections:

- a first sync (pairing, clock, program push, commit) and an unchanged sync;
- a sync that collects a backlog of three events (replay and acknowledgement);
- the share spent connecting (MTU exchange and service discovery), measured alone.

Both watches offer ENTRIES (the firmware's default features, the simulator's ENTRY_FEATURES),
so the program pushed is the format-2 foot-care program with its plan (§5.8, §12.8).

    make -C firmware -j2 && uv run python scripts/bench_firmware.py [--connection-event-ms 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from wearsync.ble.bumble_backend import close_centrals
from wearsync.ble.connection import FoundWatch, connect, find_watch
from wearsync.profiles import load_profiles
from wearsync.routine.loader import parse_routine, read_routine_text
from wearsync.sim.att_tap import AttCounts, AttTap
from wearsync.sim.hci_server import HciServer
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SyncContext
from wearsync.watches.registry import driver_for
from wearsync.watches.wearsync_timer.codec import Feature
from wearsync.watches.wearsync_timer.driver import open_watch
from wearsync.watches.wearsync_timer.firmware import FirmwareProcess

ROUTINE = "foot-care"
FIRMWARE = Path(__file__).resolve().parents[1] / "firmware" / "build" / "release" / "wearsync-fw"
COLUMNS = ("first", "unchanged", "backlog", "connect")


def sent_bytes(counts: AttCounts) -> int:
    """ATT bytes the companion sent (what the watch received)."""
    return sum(p.size for p in counts.pdus if p.direction == "rx")


def all_bytes(counts: AttCounts) -> int:
    """ATT bytes both ways."""
    return sum(p.size for p in counts.pdus)


@contextlib.asynccontextmanager
async def nimble_watch(link: VirtualLink, directory: Path) -> AsyncIterator[str]:
    """Run the firmware on ``link``; yields its address."""
    async with HciServer(link, 0) as server:
        firmware = FirmwareProcess(
            FIRMWARE, hci_port=server.port, directory=directory, capture_stderr=True
        )
        ready = await firmware.start()
        try:
            yield str(ready["address"])
        finally:
            await firmware.stop()


@contextlib.asynccontextmanager
async def simulated_watch(link: VirtualLink, directory: Path) -> AsyncIterator[str]:
    from wearsync.watches.wearsync_timer.sim.watch import ENTRY_FEATURES, SimWatch

    sim = await SimWatch.start(link, flash_dir=directory, features=ENTRY_FEATURES)
    try:
        yield sim.address
    finally:
        await sim.close()


async def measure(watch_kind: str, workdir: Path, connection_event_ms: float) -> dict[str, str]:
    text, _source = read_routine_text(ROUTINE)
    routine = parse_routine(text)
    link = VirtualLink(connection_event_ms=connection_event_ms)
    runner = nimble_watch if watch_kind == "nimble" else simulated_watch
    row: dict[str, str] = {}
    async with runner(link, workdir / watch_kind) as address:
        tap = AttTap(link, subject=address)

        async def located() -> FoundWatch:
            # Each sync scans anew, as `wearsync sync` does: once bonded the watch advertises
            # its state beacon, which decides whether the sync must pair (§14.2).
            return await find_watch(load_profiles(), name_or_address=address, hci=link, seconds=10)

        found = await located()
        with Store.open(workdir / f"{watch_kind}.db") as store:
            for column in ("first", "unchanged"):
                found = await located()
                started = time.monotonic()
                await driver_for(found.profile).sync(
                    SyncContext.of(store, found, routine, text, hci=link)
                )
                row[column] = cell(AttCounts(list(tap.current.pdus)), time.monotonic() - started)
            ctx = SyncContext.of(store, found, routine, text, hci=link)
            async with open_watch(ctx) as (session, info, _p):
                entries = "with" if Feature.ENTRIES in info.features else "without"
                row["program"] = f"{info.program_length} B committed, {entries} ENTRIES"
                await session.client.start_session(info.program_identity)
                await session.client.stop_session()
            found = await located()
            started = time.monotonic()
            await driver_for(found.profile).sync(
                SyncContext.of(store, found, routine, text, hci=link)
            )
            row["backlog"] = cell(AttCounts(list(tap.current.pdus)), time.monotonic() - started)
            started = time.monotonic()
            async with connect(found, hci=link):
                pass
            row["connect"] = cell(AttCounts(list(tap.current.pdus)), time.monotonic() - started)
        tap.close()
        await close_centrals()
    return row


def cell(counts: AttCounts, seconds: float) -> str:
    return (
        f"{sent_bytes(counts):>5}/{all_bytes(counts):<5} B {counts.round_trips:>3} RT"
        f" {seconds:5.2f} s"
    )


def render(rows: dict[str, dict[str, str]], connection_event_ms: float) -> None:
    """Print the table (this is a script: printing is its job)."""
    print(
        f"routine {ROUTINE}, VirtualLink(connection_event_ms={connection_event_ms:g}); each cell "
        "is one whole connection: ATT bytes companion->watch / both ways, ATT round trips, "
        "wall time.\n'backlog' collects 3 events (one started and stopped session)."
    )
    for name, row in rows.items():
        print(f"{name}: program {row.get('program', '?')}")
    header = f"{'watch':<22}" + "".join(f"{c:>32}" for c in COLUMNS)
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        print(f"{name:<22}" + "".join(f"{row.get(c, '-'):>32}" for c in COLUMNS))


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connection-event-ms", type=float, default=30.0)
    args = parser.parse_args(argv)
    if not FIRMWARE.exists():
        print(f"{FIRMWARE} is missing: run 'make -C firmware -j2' first", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("bumble").setLevel(logging.CRITICAL)
    rows: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WEARSYNC_HOME"] = str(Path(tmp) / "home")
        for kind, name in (("nimble", "NimBLE firmware"), ("sim", "Python simulator")):
            rows[name] = await measure(kind, Path(tmp), args.connection_event_ms)
    render(rows, args.connection_event_ms)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
