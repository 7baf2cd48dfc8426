"""What each driver costs on the air, and how well its cues keep time, on the simulator.

Every watch runs on a :class:`~wearsync.sim.link.VirtualLink` that holds each PDU until the next
connection event (30 ms by default), so round trips turn into realistic latency. For each driver
this prints:

- bytes sent (ATT bytes from the companion to the watch) and ATT round trips (requests plus
  indications) for a first sync and for a sync with nothing changed, each a whole connection;
  the share of that spent connecting (MTU exchange and service discovery) is shown apart;
- the largest cue timing error of one full foot-care session: for the watch-timed drivers
  (wearsync-timer, Bangle.js), each cue's time on the watch's own clock against the program
  (the watch's clock is advanced by hand, so only the link could add error, and it has no say);
  for the host-timed ones, each alert's arrival against its planned time, in real time, the
  session running ``--speed`` times faster than real time.

    uv run python scripts/bench_drivers.py [--connection-event-ms 30] [--speed 25]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wearsync.ble.bumble_backend import close_centrals
from wearsync.ble.connection import FoundWatch, connect, find_watch
from wearsync.routine import TimerProgram, compile_routine
from wearsync.routine.loader import parse_routine, read_routine_text
from wearsync.routine.model import Routine
from wearsync.sim.att_tap import AttCounts, AttTap
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SessionOptions, SyncContext
from wearsync.sync.reports import SessionReport, SyncReport
from wearsync.watches.registry import driver_for, load_profiles
from wearsync.watches.wearsync_timer.live import LiveUpdate

ROUTINE = "foot-care"


async def sync_watch(
    *, store: Store, routine: Routine, routine_text: str, watch: FoundWatch, hci: VirtualLink
) -> SyncReport:
    """One sync through the watch's driver."""
    return await driver_for(watch.profile).sync(
        SyncContext.of(store, watch, routine, routine_text, hci=hci)
    )


async def run_session(
    *,
    store: Store,
    routine: Routine,
    routine_text: str,
    watch: FoundWatch,
    hci: VirtualLink,
    options: SessionOptions,
) -> SessionReport:
    """One live session through the watch's driver."""
    ctx = SyncContext.of(store, watch, routine, routine_text, hci=hci)
    return await driver_for(watch.profile).session(ctx, options)


@dataclass
class Row:
    """One driver's figures."""

    driver: str
    watch: str
    first: AttCounts | None = None
    unchanged: AttCounts | None = None
    connect: AttCounts | None = None
    error_ms: float | None = None
    cues: int = 0
    note: str = ""


def sent_bytes(counts: AttCounts) -> int:
    """ATT bytes the companion sent (what the watch received)."""
    return sum(p.size for p in counts.pdus if p.direction == "rx")


class Bench:
    """One link, one store, one routine: runs each driver's watch through the same steps."""

    def __init__(self, workdir: Path, connection_event_ms: float, speed: float) -> None:
        self.workdir = workdir
        self.connection_event_ms = connection_event_ms
        self.speed = speed
        text, _source = read_routine_text(ROUTINE)
        self.text = text
        self.routine = parse_routine(text)
        self.program: TimerProgram = compile_routine(self.routine)

    def new_link(self) -> VirtualLink:
        return VirtualLink(connection_event_ms=self.connection_event_ms)

    def store(self, name: str) -> Store:
        return Store.open(self.workdir / f"{name}.db")

    async def found(self, link: VirtualLink, address: str) -> FoundWatch:
        return await find_watch(load_profiles(), name_or_address=address, hci=link, seconds=5.0)

    async def connect_only(self, link: VirtualLink, tap: AttTap, watch: FoundWatch) -> AttCounts:
        """What connecting and discovering services costs, with nothing else done."""
        async with connect(watch, hci=link):
            pass
        return AttCounts(list(tap.current.pdus))

    async def two_syncs(
        self,
        row: Row,
        link: VirtualLink,
        tap: AttTap,
        watch: FoundWatch,
        sync: Callable[..., Awaitable[Any]],
        store: Store,
    ) -> None:
        for attribute in ("first", "unchanged"):
            await sync(
                store=store, routine=self.routine, routine_text=self.text, watch=watch, hci=link
            )
            setattr(row, attribute, AttCounts(list(tap.current.pdus)))
        row.connect = await self.connect_only(link, tap, watch)

    # -- wearsync-timer ----------------------------------------------------------------------

    async def wearsync_timer(self) -> Row:
        row = Row("wearsync-timer", "SimWatch (timer service)")
        try:
            from wearsync.sim.clock import ManualClock
            from wearsync.watches.wearsync_timer.sim.watch import SimWatch
        except ImportError:
            # TODO(bench): the timer-service simulator (wearsync/sim/watch.py) is not there yet.
            row.note = "skipped: wearsync/sim/watch.py is not available"
            return row

        link = self.new_link()
        clock = ManualClock()
        sim = await SimWatch.start(link, flash_dir=self.workdir / "timer", clock=clock)
        tap = AttTap(link, subject=sim.address)
        try:
            with self.store("timer") as store:
                watch = await self.found(link, sim.address)
                # Between syncs the watch's clock runs in real time (else the unchanged sync
                # would find it behind and set it again); the session then runs by hand.
                follower = asyncio.create_task(_follow_real_time(clock))
                try:
                    await self.two_syncs(row, link, tap, watch, sync_watch, store)
                finally:
                    follower.cancel()
                task = asyncio.create_task(
                    run_session(
                        store=store,
                        routine=self.routine,
                        routine_text=self.text,
                        watch=watch,
                        hci=link,
                        options=SessionOptions(on_update=lambda _u: None),
                    )
                )
                await _wait(lambda: sim.state.name != "IDLE" or task.done())
                while not task.done():
                    await clock.advance(1000)
                    await asyncio.sleep(0)
                await task
            planned = {s.index: s.start_ms for s in self.program.steps}
            planned_end = self.program.total_ms
            errors = [
                abs(v.session_ms - (planned_end if v.step is None else planned[v.step]))
                for v in sim.motor.vibrations
                if v.cue != "countdown"
            ]
            row.cues = len(errors)
            row.error_ms = max(errors, default=0)
        except Exception as exc:  # report, and let the other drivers run
            row.note = f"failed: {type(exc).__name__}: {exc}"
        finally:
            tap.close()
            await _leave()
            await sim.close()
        return row

    # -- Bangle.js ---------------------------------------------------------------------------

    async def espruino(self) -> Row:
        row = Row("espruino-uart", "SimBangle (Bangle.js 2, Node.js)")
        if shutil.which("node") is None:
            row.note = "skipped: Node.js is not installed"
            return row
        from wearsync.watches.bangle.sim import SimBangle

        link = self.new_link()
        async with SimBangle(link, self.workdir / "bangle.json") as sim:
            tap = AttTap(link, subject=sim.address)
            with self.store("bangle") as store:
                watch = await self.found(link, sim.address)
                await self.two_syncs(row, link, tap, watch, sync_watch, store)
                # A program change (one rep more of the first exercise), runner installed.
                first = self.routine.exercises[0]
                changed = self.routine.model_copy(
                    update={
                        "exercises": (
                            first.model_copy(update={"reps": first.reps + 1}),
                            *self.routine.exercises[1:],
                        )
                    }
                )
                await sync_watch(
                    store=store, routine=changed, routine_text=self.text, watch=watch, hci=link
                )
                change = _cell(AttCounts(list(tap.current.pdus))).strip()
                await sync_watch(
                    store=store, routine=self.routine, routine_text=self.text, watch=watch, hci=link
                )
                started: list[LiveUpdate] = []
                task = asyncio.create_task(
                    run_session(
                        store=store,
                        routine=self.routine,
                        routine_text=self.text,
                        watch=watch,
                        hci=link,
                        options=SessionOptions(on_update=started.append),
                    )
                )
                await _wait(lambda: bool(started) or task.done())
                t0 = await sim.vm.now()
                while not task.done():
                    await sim.advance(1000)
                    await asyncio.sleep(0)
                await task
                buzzes = sorted(b.t_on_ms - t0 for b in await sim.vm.buzzes())
            planned = sorted(_planned_pulses(self.program))
            row.note = f"program change: {change}; app installed first: {await self._app_first()}"
            if len(buzzes) != len(planned):
                row.note = f"{len(buzzes)} pulses for {len(planned)} planned"
            errors = [abs(a - b) for a, b in zip(buzzes, planned, strict=False)]
            row.cues = len(errors)
            row.error_ms = max(errors, default=0)
            tap.close()
            await _leave()
        return row

    async def _app_first(self) -> str:
        """The first sync of a Bangle.js whose app (the runtime) came from the App Loader."""
        from wearsync.watches.bangle.codec import runtime_source, upload_commands
        from wearsync.watches.bangle.sim import SimBangle

        link = self.new_link()
        async with SimBangle(link, self.workdir / "bangle-app.json") as sim:
            for line in upload_commands(runtime_source(), 247):
                await sim.vm.write_uart(line)
            tap = AttTap(link, subject=sim.address)
            with self.store("bangle-app") as store:
                watch = await self.found(link, sim.address)
                await sync_watch(
                    store=store, routine=self.routine, routine_text=self.text, watch=watch, hci=link
                )
                cell = _cell(AttCounts(list(tap.current.pdus))).strip()
            tap.close()
            await _leave()
        return cell

    # -- host-timed ----------------------------------------------------------------------------

    async def host_timed(self, kind: str) -> Row:
        from wearsync.watches.host_timed.driver import plan_cues
        from wearsync.watches.host_timed.sim import SimInfiniTime

        label = "SimInfiniTime (New Alert)" if kind == "infinitime" else "alert band (Alert Level)"
        row = Row(f"host-timed/{kind}", label)
        link = self.new_link()
        async with SimInfiniTime(link, kind=kind) as sim:  # type: ignore[arg-type]
            tap = AttTap(link, subject=sim.address)
            with self.store(kind) as store:
                watch = await self.found(link, sim.address)
                await self.two_syncs(row, link, tap, watch, sync_watch, store)
                await run_session(
                    store=store,
                    routine=self.routine,
                    routine_text=self.text,
                    watch=watch,
                    hci=link,
                    options=SessionOptions(on_update=lambda _u: None, speed=self.speed),
                )
                starts = [e for e in store.events(sim.address) if e.kind == "session_started"]
                anchor = starts[-1].at.timestamp()
            plan = plan_cues(self.program)
            errors = [
                (alert.wall_time - (anchor + cue.at_ms / 1000 / self.speed)) * 1000
                for alert, cue in zip(sim.alerts, plan, strict=False)
            ]
            row.cues = len(errors)
            if len(sim.alerts) == len(plan):
                row.error_ms = max(errors, default=0.0)
            else:
                # Stale cues were dropped (the link is too slow for this speed): alerts and
                # cues no longer pair up one to one.
                row.note = f"{len(sim.alerts)} alerts for {len(plan)} cues; lower --speed"
            early = min(errors, default=0.0)
            if early < -1:
                row.note = (row.note + f"; earliest {early:.1f} ms").lstrip("; ")
            tap.close()
            await _leave()
        return row


def _planned_pulses(program: TimerProgram) -> list[int]:
    """The start of every motor pulse the program asks for, from the session's start."""
    out: list[int] = []

    def play(name: str, at: int) -> None:
        cue = program.cues[name]
        for i in range(0, len(cue.pattern), 2):
            out.append(at)
            at += cue.pattern[i] + (cue.pattern[i + 1] if i + 1 < len(cue.pattern) else 0)

    for step in program.steps:
        play(step.cue, step.start_ms)
        if step.countdown_cue is not None:
            for k in range(step.countdown_ms // 1000, 0, -1):
                play(step.countdown_cue, step.end_ms - k * 1000)
    play(program.end_cue, program.total_ms)
    return out


async def _leave() -> None:
    """Close the central before the watch, and let the watch settle before it is closed.

    The watch restarts advertising when the central leaves; closing it before the controller
    has answered that command leaves bumble waiting 10 s for an answer that never comes.
    """
    await close_centrals()
    await asyncio.sleep(0.2)


async def _follow_real_time(clock: Any) -> None:
    """Advance a ManualClock as real time passes."""
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.02)
        now = time.monotonic()
        await clock.advance(round((now - last) * 1000))
        last = now


async def _wait(predicate: Callable[[], bool], seconds: float = 30.0) -> None:
    async with asyncio.timeout(seconds):
        # Polls: the conditions span a task and a simulator, with no one event to wait on.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


def _cell(counts: AttCounts | None) -> str:
    if counts is None:
        return "-"
    return f"{sent_bytes(counts):>6} B {counts.round_trips:>4} RT"


def render(rows: list[Row], connection_event_ms: float, speed: float) -> None:
    """Print the table (this is a script: printing is its job)."""
    print(
        f"Drivers on the simulator: VirtualLink(connection_event_ms={connection_event_ms:g}), "
        f"routine {ROUTINE}; host-timed sessions at {speed:g}x real time.\n"
        "Bytes sent = ATT bytes companion -> watch; RT = ATT round trips (requests + "
        "indications); each sync is one whole connection, 'connect' is the part of it spent "
        "on the MTU exchange and service discovery.\n"
    )
    header = (
        f"{'driver':<26}{'first sync':>18}{'unchanged sync':>18}{'connect':>18}"
        f"{'max cue error':>16}{'cues':>6}  note"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        error = "-" if row.error_ms is None else f"{row.error_ms:.1f} ms"
        print(
            f"{row.driver:<26}{_cell(row.first):>18}{_cell(row.unchanged):>18}"
            f"{_cell(row.connect):>18}{error:>16}{row.cues:>6}  {row.note}"
        )
    print(
        "\nWatch-timed cue error: the watch's own clock against the program (link-independent)."
        f"\nHost-timed cue error: arrival at the watch minus planned time, real ms (one connection"
        f" event is {connection_event_ms:g} ms)."
    )


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connection-event-ms", type=float, default=30.0)
    parser.add_argument(
        "--speed",
        type=float,
        default=25.0,
        help="host-timed sessions run this much faster than real time (the foot routine "
        "is 560 s: 25x takes about 22 s per host-timed driver)",
    )
    parser.add_argument(
        "--only",
        choices=["wearsync-timer", "espruino-uart", "infinitime", "band"],
        action="append",
        help="run only these drivers (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    # bumble's virtual controller logs an LL control PDU that arrives for a connection its
    # peer already dropped (a teardown race of the link model, harmless): keep the table clean.
    logging.getLogger("bumble").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WEARSYNC_HOME"] = str(Path(tmp) / "home")
        bench = Bench(Path(tmp), args.connection_event_ms, args.speed)
        rows: list[Row] = []
        started = time.monotonic()
        runs: dict[str, Callable[[], Awaitable[Row]]] = {
            "wearsync-timer": bench.wearsync_timer,
            "espruino-uart": bench.espruino,
            "infinitime": lambda: bench.host_timed("infinitime"),
            "band": lambda: bench.host_timed("band"),
        }
        for name, run in runs.items():
            if args.only and name not in args.only:
                continue
            rows.append(await run())
        render(rows, args.connection_event_ms, args.speed)
        print(f"\n(ran in {time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
