"""``wearsync history``: sessions done, skipped or aborted per day, and adherence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from wearsync.cli.common import JsonOption, emit, format_duration, new_app

if TYPE_CHECKING:
    from wearsync.sync.history import HistoryReport

app = new_app()


@app.command()
def history(
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="How many days back.")] = 30,
    routine: Annotated[
        str, typer.Option("--routine", help="The routine whose schedule plans the sessions.")
    ] = "foot-care",
    as_json: JsonOption = False,
) -> None:
    """Show the sessions of the last days and adherence against the routine's schedule."""
    from wearsync.records import utc_now
    from wearsync.routine.loader import load_routine
    from wearsync.store import Store
    from wearsync.sync.history import plans_in_store, summarize

    current = load_routine(routine)
    now = utc_now()
    with Store.open() as store:
        sessions = [s for s in store.sessions() if s.routine in (current.name, "unknown")]
        first_day, plans = plans_in_store(store, current, now=now)
    report = summarize(sessions, plans, first_day=first_day, now=now, window_days=days)
    emit(report, as_json, _render)


def _render(report: HistoryReport) -> None:
    zone = ZoneInfo(report.timezone)
    typer.echo(f"History {report.since} to {report.until} ({report.timezone})")
    if not report.days:
        typer.echo("  no sessions yet: run 'wearsync sync' after a session on the watch")
    for day in report.days:
        for s in day.sessions:
            local = s.started_at.astimezone(zone)
            done = sum(1 for e in s.exercises if e.status == "done")
            skipped = [e.name for e in s.exercises if e.status == "skipped"]
            length = format_duration(int(s.duration_s * 1000)) if s.duration_s else "-"
            line = f"  {day.day} {local:%H:%M}  {s.status.value:<11} {done}/{len(s.exercises)} "
            line += f"exercises  {length}"
            if skipped:
                line += f"  skipped: {', '.join(skipped)}"
            typer.echo(line)
    per_entry = "; ".join(f"{e.name}: {e.done} of {e.planned}" for e in report.entries)
    typer.echo(
        f"Adherence since {max(report.since, report.first_day)}: {per_entry} "
        f"({report.adherence:.0%} of what was planned)"
    )
    typer.echo(
        f"  {report.aborted} aborted, {report.interrupted} interrupted; "
        f"{report.exercises_done} exercises done, {report.exercises_skipped} skipped"
    )
