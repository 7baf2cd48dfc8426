"""What entries and the schedule cost: program bytes and sync round trips, before and after.

"Before" is a watch without feature ENTRIES (it gets format 1, as every watch did); "after" a
watch with ENTRIES (format 2: the same records plus the reminder cue and the plan section,
docs/protocol.md §5.8). For each: the program's bytes against the single-write limit at
ATT_MTU 247 (244-byte value, 4-byte chunk header), and the round trips after discovery of a
first sync (clock already set) and of an unchanged sync. Everything runs in this process on
the simulated watch over a virtual link, through the real client stack; round trips are
counted from the watch's ATT tap (requests the client sent, discovery and MTU excluded; the
read of the cached Database Hash, which stands for discovery on reconnection, is counted).

    uv run python scripts/bench_entries.py
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from wearsync.ble.connection import find_watch
from wearsync.records import utc_now
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.att_tap import AttKind, AttPdu
from wearsync.sim.clock import SimClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SyncContext
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.codec import Feature, encode_program
from wearsync.watches.wearsync_timer.codec.encode import wire_plan
from wearsync.watches.wearsync_timer.sim.watch import ALL_FEATURES, ENTRY_FEATURES, SimWatch

DISCOVERY_OPCODES = {0x02, 0x04, 0x06, 0x08, 0x10}
SINGLE_WRITE_PROGRAM_BYTES = 244 - 4


def sync_requests(pdus: list[AttPdu]) -> list[str]:
    return [
        p.name.removeprefix("ATT_")
        for p in pdus
        if p.kind is AttKind.REQUEST and p.direction == "rx" and p.opcode not in DISCOVERY_OPCODES
    ]


async def run(label: str, features: Feature, home: Path) -> tuple[str, int, int, int, str, str]:
    routine = load_routine("foot-care")
    text = builtin_text("foot-care")
    link = VirtualLink()
    watch = await SimWatch.start(
        link, flash_dir=home / label, clock=SimClock(), features=features, utc=utc_now()
    )
    try:
        with Store.open(home / f"{label}.db") as store:
            profiles = registry.load_profiles()
            target = await find_watch(profiles, name_or_address=watch.address, hci=link, seconds=5)
            ctx = SyncContext.of(store, target, routine, text, hci=link)
            driver = registry.driver_for(target.profile)
            first = await driver.sync(ctx)
            first_rt = sync_requests(watch.tap.connections[-1].pdus)
            # Scanned anew, as `wearsync sync` does: the bonded watch now advertises its beacon.
            target = await find_watch(profiles, name_or_address=watch.address, hci=link, seconds=5)
            await driver.sync(SyncContext.of(store, target, routine, text, hci=link))
            again_rt = sync_requests(watch.tap.connections[-1].pdus)
            return (
                label,
                first.program_bytes,
                len(first_rt),
                len(again_rt),
                ", ".join(first_rt),
                ", ".join(again_rt),
            )
    finally:
        await watch.close()


async def main() -> None:
    routine = load_routine("foot-care")
    program = compile_routine(routine)
    today = utc_now().astimezone(routine.schedule.zone).date()
    plain = len(encode_program(program))
    planned = len(encode_program(program, wire_plan(routine, program, today)))
    print(
        "Program bytes (foot-care), single-write limit at ATT_MTU 247:", SINGLE_WRITE_PROGRAM_BYTES
    )
    print(f"  format 1 (before): {plain:4d} bytes")
    print(f"  format 2 (after):  {planned:4d} bytes (+{planned - plain}: reminder cue, plan)")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WEARSYNC_HOME"] = tmp
        rows = [
            await run("before", ALL_FEATURES, Path(tmp)),
            await run("after", ENTRY_FEATURES, Path(tmp)),
        ]
    print("\nRound trips after discovery (watch clock already set)")
    print(
        f"  {'watch':<8} {'bytes':>5} {'first':>5} {'unchanged':>9}  requests (first | unchanged)"
    )
    for label, size, first, again, first_mix, again_mix in rows:
        print(f"  {label:<8} {size:5d} {first:5d} {again:9d}  {first_mix} | {again_mix}")


if __name__ == "__main__":
    asyncio.run(main())
