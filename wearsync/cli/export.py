"""``wearsync export ics``: the routine's schedule and its sessions as an iCalendar file;
``wearsync export fit``: the routine as a FIT workout file for Garmin watches."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel

from wearsync.cli.common import JsonOption, emit, new_app
from wearsync.cli.feed import PublicUrlOption, RoutineOption, parse_clock, stored_base
from wearsync.errors import InputError

if TYPE_CHECKING:
    from wearsync.calendar.export import ExportOptions
    from wearsync.routine.model import Routine

app = new_app(help="Export routines and sessions to other formats.")


@app.callback()
def _export() -> None:
    """Export routines and sessions to other formats."""
    # A callback keeps 'export' a group with 'ics' under it (typer would otherwise collapse a
    # single command into the group), leaving room for other formats.


class HistoryChoice(StrEnum):
    """``--history``: which sessions (mirrors ``wearsync.calendar.history.HistoryMode``)."""

    RECENT = "recent"
    ALL = "all"
    NONE = "none"


class ViewChoice(StrEnum):
    """``--view``: which events (mirrors ``wearsync.calendar.export.CalendarView``)."""

    COMBINED = "combined"
    SCHEDULE = "schedule"
    HISTORY = "history"


class ExportedEventRow(BaseModel):
    """One schedule event of the export."""

    uid: str
    kind: str
    summary: str
    sequence: int
    last_modified: datetime


class ExportResult(BaseModel):
    """The result of ``export ics``."""

    file: str
    routine: str
    bytes: int
    etag: str
    last_modified: datetime
    first_day: date
    every_days: int
    view: str
    history: str
    schedule: list[ExportedEventRow]
    sessions: int
    summaries: int
    marks: int = 0
    """Past occurrences marked done or missed (overrides of the schedule's events)."""


@app.command()
def ics(
    routine: RoutineOption = "foot-care",
    out: Annotated[
        str | None,
        typer.Option(
            "--out", "-o", help="The file to write (default <routine>.ics; - for stdout)."
        ),
    ] = None,
    history: Annotated[
        HistoryChoice,
        typer.Option(
            "--history",
            help="Sessions to include: recent (last 12 months, older ones summarised per month; "
            "under 256 KB), all, or none.",
        ),
    ] = HistoryChoice.RECENT,
    view: Annotated[
        ViewChoice,
        typer.Option(
            "--view",
            help="combined (schedule and sessions), schedule only, or history only (a separate "
            "history calendar).",
        ),
    ] = ViewChoice.COMBINED,
    every: Annotated[
        int | None,
        typer.Option(
            "--every", min=1, max=365, help="Every N days (default: the range's minimum)."
        ),
    ] = None,
    at: Annotated[
        list[str] | None,
        typer.Option("--at", help="Time of day for the routine, HH:MM (repeatable)."),
    ] = None,
    daily_at: Annotated[
        list[str] | None,
        typer.Option(
            "--daily-at", help="Time slots for exercises done several times a day (repeatable)."
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="First day YYYY-MM-DD for this export (default: 'feed first-day')."
        ),
    ] = None,
    reminder: Annotated[
        int, typer.Option("--reminder", min=0, max=1440, help="Alarm minutes before; 0: none.")
    ] = 10,
    public_url: PublicUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the routine's schedule (and its sessions) as an iCalendar (.ics) file."""
    from wearsync.calendar.export import build_calendar
    from wearsync.calendar.schedule import every_days
    from wearsync.calendar.tokens import schedule_start
    from wearsync.records import utc_now
    from wearsync.routine.loader import load_routine
    from wearsync.store import Store
    from wearsync.sync.history import routine_plans

    loaded = load_routine(routine)
    now = utc_now()
    with Store.open() as store:
        base = stored_base(store, None, None, public_url)
        options = _options(history, view, every, at, daily_at, reminder, base)
        first = _first_day(start) or schedule_start(
            store, loaded.name, now.astimezone(loaded.schedule.zone).date()
        )
        sessions = [s for s in store.sessions() if s.routine == loaded.name]
        exported = build_calendar(
            loaded,
            sessions,
            start=first,
            ledger=store.calendar_ledger(),
            now=now,
            options=options,
            plans=routine_plans(store, loaded, now=now),
        )
    target = out or f"{loaded.name}.ics"
    _write(target, exported.body)
    result = ExportResult(
        file=target,
        routine=loaded.name,
        bytes=len(exported.body),
        etag=exported.etag.strip('"'),
        last_modified=exported.last_modified,
        first_day=first,
        every_days=every_days(loaded, options.schedule),
        view=view.value,
        history=history.value,
        schedule=[
            ExportedEventRow(
                uid=e.uid,
                kind=e.kind.value,
                summary=e.summary,
                sequence=e.sequence,
                last_modified=e.last_modified,
            )
            for e in exported.schedule
        ],
        sessions=exported.sessions,
        summaries=exported.summaries,
        marks=exported.marks,
    )
    if target == "-" and not as_json:
        return  # the calendar itself went to stdout
    emit(result, as_json, lambda r: _render(r, loaded))


class FitExportResult(BaseModel):
    """The result of ``export fit``."""

    file: str
    routine: str
    program_identity: str
    bytes: int
    steps: int
    repeats: int
    written: bool
    warnings: list[str]


@app.command()
def fit(
    routine: RoutineOption = "foot-care",
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help="The file to write (default <routine>.fit)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the routine as a FIT workout file, for a Garmin watch or Gadgetbridge."""
    from wearsync.routine.compiler import compile_routine
    from wearsync.routine.loader import load_routine
    from wearsync.sync.driver import program_key
    from wearsync.watches.garmin_fit.codec import encode_workout
    from wearsync.watches.garmin_fit.folder import write_atomically

    loaded = load_routine(routine)
    program = compile_routine(loaded)
    encoded = encode_workout(program, loaded)
    target = Path(out or f"{loaded.name}.fit")
    try:
        unchanged = target.is_file() and target.read_bytes() == encoded.data
    except OSError:
        unchanged = False
    if not unchanged:
        write_atomically(target, encoded.data)
    result = FitExportResult(
        file=str(target),
        routine=loaded.name,
        program_identity=program_key(program),
        bytes=len(encoded.data),
        steps=len(encoded.plan.steps),
        repeats=encoded.plan.repeat_count,
        written=not unchanged,
        warnings=[f"{w.message} (hint: {w.hint})" for w in encoded.warnings],
    )
    emit(result, as_json, _render_fit)


def _render_fit(result: FitExportResult) -> None:
    done = "wrote" if result.written else "unchanged, nothing written:"
    typer.echo(
        f"{done} {result.file}: '{result.routine}' as a FIT workout, {result.steps} steps "
        f"({result.repeats} repeats), {result.bytes} bytes"
    )
    for warning in result.warnings:
        typer.echo(f"warning: {warning}")
    typer.echo("load it: copy to GARMIN/NewFiles on the watch, or send it with Gadgetbridge")


class BangleAppResult(BaseModel):
    """The result of ``wearsync export bangle-app``."""

    directory: str
    files: list[str]


@app.command("bangle-app")
def bangle_app(
    directory: Annotated[Path, typer.Argument(help="The folder to write the app into.")],
    as_json: JsonOption = False,
) -> None:
    """Write the wearsync Bangle.js app as an App Loader folder (metadata.json, code, icon).

    Install it from the App Loader (or upload it once); 'wearsync sync' then sends each routine
    to it as data.
    """
    from wearsync.errors import InputError
    from wearsync.watches.bangle.app_loader import export_app

    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: exists and is not a folder")
    try:
        written = export_app(directory)
    except OSError as exc:
        raise InputError(f"{directory}: cannot write the app ({exc.strerror or exc})") from exc
    result = BangleAppResult(directory=str(directory), files=[p.name for p in written])
    emit(result, as_json, _render_bangle_app)


def _render_bangle_app(result: BangleAppResult) -> None:
    typer.echo(f"wrote the wearsync Bangle.js app to {result.directory}: {', '.join(result.files)}")
    typer.echo("install it from the App Loader, or let 'wearsync sync' upload it")


def _options(
    history: HistoryChoice,
    view: ViewChoice,
    every: int | None,
    at: list[str] | None,
    daily_at: list[str] | None,
    reminder: int,
    base: str,
) -> ExportOptions:
    from wearsync.calendar.export import CalendarView, ExportOptions
    from wearsync.calendar.history import HistoryMode
    from wearsync.calendar.schedule import ScheduleOptions

    schedule = ScheduleOptions(
        every_days=every,
        times=tuple(parse_clock(t, "--at") for t in at) if at else None,
        daily_times=tuple(parse_clock(t, "--daily-at") for t in daily_at) if daily_at else None,
        reminder=timedelta(minutes=reminder) if reminder else None,
    )
    mode = HistoryMode(history.value)
    return ExportOptions(
        schedule=schedule,
        view=CalendarView(view.value),
        history=mode,
        max_bytes=ExportOptions().max_bytes if mode is HistoryMode.RECENT else None,
        url=base,
    )


def _first_day(text: str | None) -> date | None:
    from wearsync.calendar.tokens import parse_first_day

    return None if text is None else parse_first_day(text, "--start")


def _write(target: str, body: bytes) -> None:
    if target == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    path = Path(target)
    try:
        # Write then rename, so a calendar app watching the file never reads half of it.
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(body)
        partial.replace(path)
    except OSError as exc:
        raise InputError(
            f"{target}: cannot write the calendar ({exc.strerror or exc})",
            hint="check the directory exists and is writable, or pass --out",
        ) from exc


def _render(result: ExportResult, routine: Routine) -> None:
    kb = result.bytes / 1024
    typer.echo(f"wrote {result.file} ({kb:.1f} KB): {routine.title}")
    if result.view != "history":
        typer.echo(
            f"  every {result.every_days} days from {result.first_day} "
            f"({routine.schedule.timezone})"
        )
        for e in result.schedule:
            typer.echo(f"  {e.summary:<52} SEQUENCE {e.sequence}")
        if result.marks:
            typer.echo(f"  {result.marks} past occurrences marked done or missed")
    if result.view != "schedule":
        typer.echo(f"  {result.sessions} sessions, {result.summaries} monthly summaries")
