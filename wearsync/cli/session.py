"""``wearsync session``: run the routine on the watch and mirror it live in the terminal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wearsync.cli.common import (
    DeviceOption,
    HciOption,
    JsonOption,
    RoutineRefOption,
    ScanSecondsOption,
    emit,
    format_duration,
    new_app,
)

if TYPE_CHECKING:
    from wearsync.sync.live import LiveUpdate
    from wearsync.sync.reports import SessionReport

app = new_app()

SpeedOption = Annotated[
    float,
    typer.Option(
        "--speed",
        min=0.1,
        max=1000,
        help="Time scale of the session: 1 for a real watch; with the simulator, its --speed "
        "(host-timed watches then get their cues that much faster).",
    ),
]


class SessionView:
    """What the terminal shows: the current step with a countdown bar, and the cue log.

    Rendered by rich's Live display several times a second; :meth:`update` is called from the
    event loop for every event the watch reports.
    """

    def __init__(self, routine: str, speed: float) -> None:
        self.routine = routine
        self.speed = speed
        self.headline = "waiting for the watch"
        self.detail = ""
        self.step_ms = 0
        self.step_started = 0.0
        self.paused_at: float | None = None
        self.log: list[str] = []
        self.session_started = time.monotonic()
        self.ended = False

    def say(self, message: str) -> None:
        """Show a progress message (connecting, pushing...) until the session starts."""
        if not self.step_ms and not self.ended:
            self.headline = message

    def note(self, line: str) -> None:
        """Add a line to the log (e.g. a vibration the simulated watch played)."""
        self._log(line)

    def update(self, u: LiveUpdate) -> None:
        """Take one event from the watch."""
        now = time.monotonic()
        if u.kind == "session_started":
            self.session_started = now
        if u.kind == "step_started" and u.step is not None:
            step = u.step
            self.step_ms = step.duration_ms
            self.step_started = now
            self.paused_at = None
            where = [f"set {step.set}", f"rep {step.rep}"] if step.rep else []
            if step.side.value != "both":
                where.append(f"{step.side.value} side")
            if step.direction.value != "none":
                where.append(step.direction.value)
            self.headline = f"{u.exercise or '?'}: {step.kind.value.replace('_', ' ')}"
            self.detail = ", ".join(where)
            self._log(f"{self.headline} {self.detail} (cue '{u.cue}')".replace("  ", " "))
        elif u.kind == "paused":
            self.paused_at = now
            self._log("paused")
        elif u.kind == "resumed":
            if self.paused_at is not None:
                self.step_started += now - self.paused_at
            self.paused_at = None
            self._log("resumed")
        elif u.kind in ("exercise_completed", "exercise_skipped"):
            self._log(f"{u.exercise}: {u.kind.split('_')[1]}")
        elif u.kind in ("session_completed", "session_aborted"):
            self.headline = "session " + u.kind.split("_")[1]
            self.ended = True
            self.detail = ""
            self.step_ms = 0
            self._log(self.headline + " (vibration 'session_end')" if "completed" in u.kind else "")

    def _log(self, line: str) -> None:
        if line:
            elapsed = (time.monotonic() - self.session_started) * self.speed * 1000
            self.log.append(f"{format_duration(int(elapsed)):>6}  {line}")
            del self.log[:-8]

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.progress_bar import ProgressBar
        from rich.text import Text

        now = self.paused_at or time.monotonic()
        done_ms = min(self.step_ms, (now - self.step_started) * self.speed * 1000)
        left_s = max(0.0, (self.step_ms - done_ms) / 1000)
        parts: list[Any] = [Text(self.headline, style="bold"), Text(self.detail)]
        if self.step_ms:
            bar = ProgressBar(total=self.step_ms, completed=done_ms, width=40)
            label = "paused" if self.paused_at else f"{left_s:4.1f} s left"
            parts += [bar, Text(label)]
        parts.append(Text("\n".join(self.log), style="dim"))
        return Panel(Group(*parts), title=f"wearsync session: {self.routine}")


@app.command()
def session(
    routine: RoutineRefOption = "foot-care",
    device: DeviceOption = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait for the wearer to start on the watch instead."),
    ] = False,
    speed: SpeedOption = 1.0,
    entry: Annotated[
        str | None,
        typer.Option(
            "--entry",
            "-e",
            help="Start one exercise done several times a day on its own (e.g. toe-presses).",
        ),
    ] = None,
    hci: HciOption = None,
    scan_seconds: ScanSecondsOption = 10.0,
    as_json: JsonOption = False,
) -> None:
    """Start the routine on the watch and mirror it live: exercise, countdown, each cue."""
    from wearsync.routine.loader import load_routine_and_text
    from wearsync.store import Store
    from wearsync.sync.driver import SessionOptions, SyncContext, locate_watch
    from wearsync.watches.registry import driver_for, load_profiles, watch_at

    parsed, text = load_routine_and_text(routine)
    profiles = load_profiles()
    view = SessionView(parsed.name, speed)
    options = SessionOptions(on_update=view.update, start=not wait, speed=speed, entry=entry)

    async def run(progress: Callable[[str], None]) -> SessionReport:
        with Store.open() as store:
            watch = await locate_watch(
                store,
                profiles,
                device=device,
                hci=hci,
                seconds=scan_seconds,
                progress=progress,
                watch_at=watch_at,
            )
            ctx = SyncContext.of(store, watch, parsed, text, hci=hci, progress=progress)
            return await driver_for(watch.profile).session(ctx, options)

    if as_json:
        emit(asyncio.run(run(lambda _msg: None)), True, render_session)
        return
    from rich.console import Console
    from rich.live import Live

    with Live(view, console=Console(), refresh_per_second=10):
        report = asyncio.run(run(view.say))
    render_session(report)


def render_session(report: SessionReport) -> None:
    """Print how the session ended, for people."""
    typer.echo(
        f"Session '{report.routine}' on {report.address}: {report.ended.replace('_', ' ')}; "
        f"{report.steps_seen} steps mirrored, {report.events_new} new events stored"
    )
    typer.echo("See 'wearsync history' for the record.")
