"""``wearsync devices``: find compatible wearables nearby, list remembered ones."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from pydantic import BaseModel

from wearsync.cli.common import HciOption, JsonOption, Progress, emit, new_app
from wearsync.records import DeviceRecord

app = new_app()


class DeviceRow(BaseModel):
    """One wearable seen in a scan."""

    address: str
    name: str
    profile: str
    rssi: int
    remembered: bool


class ScanResult(BaseModel):
    """The result of ``wearsync devices scan``."""

    seconds: float
    devices: list[DeviceRow]


@app.command()
def scan(
    seconds: Annotated[
        float, typer.Option("--seconds", min=0.5, max=120, help="How long to scan.")
    ] = 5.0,
    hci: HciOption = None,
    as_json: JsonOption = False,
) -> None:
    """List wearables that match a device profile, with address, profile and signal strength."""
    from wearsync.ble.connection import scan as scan_watches
    from wearsync.store import Store
    from wearsync.watches.registry import load_profiles

    profiles = load_profiles()
    with Progress(enabled=not as_json) as progress:
        progress(f"scanning for {seconds:g} s")
        found = asyncio.run(scan_watches(profiles, hci=hci, seconds=seconds))
    with Store.open() as store:
        remembered = {d.address.upper() for d in store.devices()}
    rows = [
        DeviceRow(
            address=w.address,
            name=w.name,
            profile=w.profile.id,
            rssi=w.rssi,
            remembered=w.address.upper() in remembered,
        )
        for w in found
    ]
    emit(ScanResult(seconds=seconds, devices=rows), as_json, _render)


class DeviceList(BaseModel):
    """The result of ``wearsync devices list``."""

    devices: list[DeviceRecord]


@app.command("list")
def list_devices(as_json: JsonOption = False) -> None:
    """List the wearables synced before, most recent first."""
    from wearsync.store import Store

    with Store.open() as store:
        result = DeviceList(devices=store.devices())
    emit(result, as_json, _render_list)


def _render_list(result: DeviceList) -> None:
    if not result.devices:
        typer.echo("no wearable synced yet: 'wearsync devices scan', then 'wearsync sync'")
    for d in result.devices:
        last = d.last_sync.strftime("%Y-%m-%d %H:%M UTC") if d.last_sync else "never"
        bond = "bonded" if d.bonded else "not bonded"
        typer.echo(f"{d.address:<20} {d.profile:<18} {bond:<11} last sync {last}  {d.name}")


def _render(result: ScanResult) -> None:
    if not result.devices:
        typer.echo(
            f"no compatible wearable found in {result.seconds:g} s "
            "(is it advertising? for the simulator, run 'wearsync sim' and pass its --hci)"
        )
        return
    typer.echo(f"{'address':<20} {'rssi':>5}  {'profile':<18} name")
    for d in result.devices:
        mark = " *" if d.remembered else ""
        typer.echo(f"{d.address:<20} {d.rssi:>5}  {d.profile:<18} {d.name}{mark}")
    if any(d.remembered for d in result.devices):
        typer.echo("* synced before")
