"""``wearsync demo``: the whole main job on a simulated watch, on a machine with no Bluetooth.

It starts the simulated watch in this process (bumble, a virtual radio), finds it by its
profile, syncs the foot-care routine over real GATT (pairing, clock, program), runs a session
in accelerated time while mirroring it live (every vibration the watch plays), reads back the
completion events, stores them in SQLite, writes the calendar export and prints where
everything is. Its data lives in ``<data dir>/demo`` and is started afresh each run, so the
demo never touches the user's own database.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel

from wearsync.cli.common import JsonOption, emit, format_duration, new_app

if TYPE_CHECKING:
    from wearsync.cli.session import SessionView
    from wearsync.routine.model import Routine
    from wearsync.sim.wearer import Wearer
    from wearsync.store import Store

app = new_app()


class DemoResult(BaseModel):
    """The result of ``wearsync demo``: what happened and where everything is."""

    watch: str
    routine: str
    program_bytes: int
    program_pushed: bool
    speed: float
    session_ended: str
    vibrations: int
    events_stored: int
    session_status: str
    exercises_done: int
    exercises: int
    seconds: float
    database: str
    calendar: str | None
    calendar_events: int
    next_reminder: str | None
    """When the watch reminds next on its own (its local time) and of what, if it will."""
    sim_flash: str


@app.command()
def demo(
    speed: Annotated[
        float,
        typer.Option(
            "--speed", min=1, max=1000, help="How many times faster than real time the watch runs."
        ),
    ] = 60.0,
    wearer: Annotated[
        str,
        typer.Option(
            "--wearer",
            help="What the simulated wearer does, e.g. 'skip=2' or 'pause=10:5000' "
            "(default: every exercise).",
        ),
    ] = "",
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where the demo keeps its files (default: <data dir>/demo)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sync the foot routine to a simulated watch, run a session, store and export the results."""
    from wearsync.paths import data_dir
    from wearsync.sim.wearer import Wearer

    script = Wearer.parse(wearer)
    home = directory or data_dir() / "demo"
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    live = not as_json and sys.stdout.isatty()
    view = _make_view(speed) if not as_json else None
    if live and view is not None:
        from rich.live import Live

        with Live(view, refresh_per_second=10):
            result = asyncio.run(run_demo(home, speed, script, view))
    else:
        result = asyncio.run(run_demo(home, speed, script, view))
    emit(result, as_json, _render)


def _make_view(speed: float) -> SessionView:
    from wearsync.cli.session import SessionView

    return SessionView("foot-care (simulated watch)", speed)


async def run_demo(
    home: Path, speed: float, wearer: Wearer, view: SessionView | None
) -> DemoResult:
    """Run the demo in ``home``; ``view`` (if any) is fed progress, events and vibrations."""
    import time

    from wearsync.ble.bumble_backend import close_centrals
    from wearsync.ble.connection import find_watch
    from wearsync.routine.loader import builtin_text, parse_routine
    from wearsync.sim.clock import SimClock
    from wearsync.sim.link import VirtualLink
    from wearsync.sim.motor import Vibration
    from wearsync.store import Store
    from wearsync.sync.driver import SessionOptions, SyncContext
    from wearsync.sync.live import LiveUpdate
    from wearsync.watches.registry import driver_for, load_profiles
    from wearsync.watches.wearsync_timer.sim.watch import ENTRY_FEATURES, SimWatch

    started = time.monotonic()
    text = builtin_text("foot-care")
    routine = parse_routine(text, "foot-care")
    vibrations: list[Vibration] = []

    def say(message: str) -> None:
        if view is not None:
            view.say(message)

    def buzz(vibration: Vibration) -> None:
        vibrations.append(vibration)
        if view is not None:
            view.note(f"watch buzzes {vibration.describe()}")

    def update(u: LiveUpdate) -> None:
        if view is not None:
            view.update(u)

    link = VirtualLink()
    watch = await SimWatch.start(
        link,
        flash_dir=home / "sim-flash",
        clock=SimClock(speed=speed),
        wearer=wearer,
        on_vibration=buzz,
        features=ENTRY_FEATURES,  # the whole protocol: entry points and reminders too
    )
    try:
        with Store.open(home / "wearsync.db") as store:
            say("scanning for a compatible watch")
            found = await find_watch(load_profiles(), hci=link, seconds=10)
            ctx = SyncContext.of(store, found, routine, text, hci=link, progress=say)
            driver = driver_for(found.profile)
            report = await driver.sync(ctx)
            session = await driver.session(ctx, SessionOptions(on_update=update, start=True))
            sessions = store.sessions()
            events = len(store.events())
            calendar_path, calendar_events = _export_calendar(home, store, routine)
            upcoming = watch.next_reminder()
    finally:
        await watch.close()
        await close_centrals()
    last = sessions[-1] if sessions else None
    return DemoResult(
        watch=f"{found.name} ({found.address})",
        routine=routine.name,
        program_bytes=report.program_bytes,
        program_pushed=report.program_pushed,
        speed=speed,
        session_ended=session.ended,
        vibrations=len(vibrations),
        events_stored=events,
        session_status=last.status.value if last else "none",
        exercises_done=sum(1 for e in last.exercises if e.status == "done") if last else 0,
        exercises=len(last.exercises) if last else 0,
        seconds=round(time.monotonic() - started, 2),
        database=str(home / "wearsync.db"),
        calendar=str(calendar_path) if calendar_path else None,
        calendar_events=calendar_events,
        next_reminder=(
            None if upcoming is None else f"{upcoming[0]:%a %d %b %H:%M}: {', '.join(upcoming[1])}"
        ),
        sim_flash=str(home / "sim-flash"),
    )


def _export_calendar(home: Path, store: Store, routine: Routine) -> tuple[Path, int]:
    """Write the routine's calendar with the demo's sessions; returns (file, event count)."""
    from wearsync.calendar.export import build_calendar
    from wearsync.calendar.tokens import schedule_start
    from wearsync.records import utc_now
    from wearsync.sync.history import routine_plans

    now = utc_now()
    first = schedule_start(store, routine.name, now.astimezone(routine.schedule.zone).date())
    calendar = build_calendar(
        routine,
        store.sessions(),
        start=first,
        ledger=store.calendar_ledger(),
        now=now,
        plans=routine_plans(store, routine, now=now),
    )
    path = home / f"{routine.name}.ics"
    path.write_bytes(calendar.body)
    return path, len(calendar.schedule) + calendar.sessions + calendar.summaries + calendar.marks


def _render(result: DemoResult) -> None:
    typer.echo("")
    typer.echo(f"wearsync demo: the '{result.routine}' routine on {result.watch}")
    pushed = "pushed" if result.program_pushed else "already there"
    typer.echo(f"  program: {result.program_bytes} bytes over GATT ({pushed})")
    typer.echo(
        f"  session at {result.speed:g}x: {result.session_ended.replace('_', ' ')}, "
        f"{result.vibrations} vibration cues played, "
        f"{result.exercises_done} of {result.exercises} exercises done ({result.session_status})"
    )
    typer.echo(f"  events read back and stored: {result.events_stored}")
    if result.next_reminder:
        typer.echo(f"  the watch reminds next, on its own: {result.next_reminder}")
    typer.echo(f"  took {format_duration(int(result.seconds * 1000))} ({result.seconds:.1f} s)")
    typer.echo("Where everything is:")
    typer.echo(f"  database:       {result.database}")
    if result.calendar:
        typer.echo(f"  calendar:       {result.calendar} ({result.calendar_events} events)")
    typer.echo(f"  watch's flash:  {result.sim_flash}")
    typer.echo("Next: 'wearsync sim' runs the watch on its own; 'wearsync --help' lists the rest.")
