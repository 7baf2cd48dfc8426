"""``wearsync sync``: push the routine to the watch if it changed, read back what was done."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer

from wearsync.cli.common import (
    DeviceOption,
    HciOption,
    JsonOption,
    Progress,
    RoutineRefOption,
    ScanSecondsOption,
    emit,
    new_app,
)

if TYPE_CHECKING:
    from wearsync.sync.reports import SyncReport

app = new_app()


@app.command()
def sync(
    routine: RoutineRefOption = "foot-care",
    device: DeviceOption = None,
    hci: HciOption = None,
    scan_seconds: ScanSecondsOption = 10.0,
    as_json: JsonOption = False,
) -> None:
    """Sync a routine to the watch and store the completion events it recorded.

    ``--device`` also takes a folder: a Garmin watch's USB drive (or its GARMIN folder), an MTP
    mount of it, or a folder Gadgetbridge sends workouts from and exports activities to.
    """
    from wearsync.routine.loader import load_routine_and_text
    from wearsync.store import Store
    from wearsync.sync.driver import SyncContext, locate_watch
    from wearsync.watches.registry import driver_for, load_profiles, watch_at

    parsed, text = load_routine_and_text(routine)
    profiles = load_profiles()

    async def run(progress: Progress) -> SyncReport:
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
            return await driver_for(watch.profile).sync(ctx)

    with Progress(enabled=not as_json) as progress:
        report = asyncio.run(run(progress))
    emit(report, as_json, render_report)


def render_report(report: SyncReport) -> None:
    """Print what a sync did, for people."""
    who = f"{report.name} ({report.address})" if report.name else report.address
    typer.echo(f"Synced '{report.routine}' with {who} in {report.seconds:.2f} s")
    if report.paired:
        typer.echo("  paired and bonded with the watch")
    program = "pushed" if report.program_pushed else "unchanged, nothing written"
    typer.echo(
        f"  program {report.program_identity[:16]} ({report.program_bytes} bytes): {program}"
    )
    if report.clock_set:
        typer.echo("  watch clock set")
    typer.echo(
        f"  events: {report.events_received} read back, {report.events_new} new"
        + (f", acknowledged through {report.acked_through}" if report.acked_through else "")
    )
    if report.rejected_notifications:
        typer.echo(f"  warning: {report.rejected_notifications} malformed notifications dropped")
    for warning in report.warnings:
        typer.echo(f"  warning: {warning}")
    typer.echo(f"  sessions on record for this watch: {report.sessions}")
