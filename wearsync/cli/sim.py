"""``wearsync sim``: run a simulated watch that other wearsync commands can sync with.

The watch runs on a virtual radio served as HCI over TCP on 127.0.0.1; point any other
command at it with the printed ``WEARSYNC_HCI=tcp-client:127.0.0.1:PORT``. Its flash (program,
events, bonds) lives in a directory, so it remembers them across runs. Vibrations and events
are printed as they happen; Ctrl-C or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from pydantic import BaseModel

from wearsync.cli.common import JsonOption, new_app
from wearsync.errors import WearSyncError
from wearsync.sim.wearer import Wearer

if TYPE_CHECKING:
    from wearsync.sim.motor import Vibration
    from wearsync.watches.wearsync_timer.codec import EventRecord

app = new_app()

DEFAULT_PORT = 7461


class SimReady(BaseModel):
    """The first line: where the watch is."""

    type: Literal["ready"] = "ready"
    hci: str
    env: str
    name: str
    address: str
    boot_id: int
    program_identity: str | None
    unacked_events: int
    flash: str | None
    speed: float
    wearer: str


class SimVibration(BaseModel):
    """A cue the motor plays."""

    type: Literal["vibration"] = "vibration"
    cue: str
    pattern: list[int]
    strength: int
    step: int | None
    session_ms: int
    uptime_ms: int
    utc: datetime | None


class SimEvent(BaseModel):
    """An event the watch records."""

    type: Literal["event"] = "event"
    boot_id: int
    seq: int
    kind: str
    step: int
    exercise: int
    set: int
    rep: int
    duration_ms: int
    clock_set: bool
    time_s: int
    time_ms: int


class SimStopped(BaseModel):
    """The last line: what the watch holds when it stops."""

    type: Literal["stopped"] = "stopped"
    boot_id: int
    unacked_events: int
    program_identity: str | None


class SimError(WearSyncError):
    """The simulator could not start."""


@app.command()
def sim(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="TCP port on 127.0.0.1 (0: any free).")
    ] = DEFAULT_PORT,
    flash: Annotated[
        Path | None,
        typer.Option("--flash", help="Directory of the watch's flash (default: DATA_DIR/sim)."),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed", min=0.001, help="Watch time per real time: 60 runs a minute a second."
        ),
    ] = 1.0,
    wearer: Annotated[
        str,
        typer.Option(
            "--wearer",
            help=(
                "What the wearer does, e.g. 'skip=2,pause=10:5000,abort=40,start=0' "
                "(indices from 0, times in ms; default: every step, the companion starts)."
            ),
        ),
    ] = "",
    name: Annotated[str, typer.Option("--name", help="Advertised name.")] = "WearSync Sim",
    as_json: JsonOption = False,
) -> None:
    """Run a simulated watch until interrupted."""
    from wearsync.paths import data_dir

    script = Wearer.parse(wearer)
    directory = flash if flash is not None else data_dir() / "sim"
    asyncio.run(_serve(port, directory, speed, script, name, as_json))


async def _serve(
    port: int, directory: Path, speed: float, wearer: Wearer, name: str, as_json: bool
) -> None:
    # bumble costs half a second to import: only here, never at CLI start-up.
    from wearsync.sim.clock import SimClock
    from wearsync.sim.hci_server import HciServer
    from wearsync.sim.link import VirtualLink
    from wearsync.watches.wearsync_timer.sim.watch import SimWatch

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    link = VirtualLink()
    server = HciServer(link, port)
    try:
        await server.start()
    except OSError as exc:
        raise SimError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}",
            hint="another 'wearsync sim' may be running; pick another --port (0: any free)",
        ) from exc
    try:
        watch = await SimWatch.start(
            link,
            flash_dir=directory,
            name=name,
            clock=SimClock(speed),
            wearer=wearer,
            on_vibration=lambda v: _show(_vibration(v), as_json),
            on_event=lambda e: _show(_event(e), as_json),
        )
        identity = watch.committed_identity
        _show(
            SimReady(
                hci=server.hci_spec,
                env=f"WEARSYNC_HCI={server.hci_spec}",
                name=name,
                address=watch.address,
                boot_id=watch.boot_id,
                program_identity=identity.hex() if identity else None,
                unacked_events=len(watch.events),
                flash=str(directory),
                speed=speed,
                wearer=str(wearer),
            ),
            as_json,
        )
        await stop.wait()
        identity = watch.committed_identity
        stopped = SimStopped(
            boot_id=watch.boot_id,
            unacked_events=len(watch.events),
            program_identity=identity.hex() if identity else None,
        )
        await watch.close()
        _show(stopped, as_json)
    finally:
        await server.close()


def _vibration(v: Vibration) -> SimVibration:
    return SimVibration(
        cue=v.cue,
        pattern=list(v.pattern),
        strength=v.strength,
        step=v.step,
        session_ms=v.session_ms,
        uptime_ms=v.at_ms,
        utc=v.utc,
    )


def _event(e: EventRecord) -> SimEvent:
    return SimEvent(
        boot_id=e.boot_id,
        seq=e.seq,
        kind=e.kind.name,
        step=e.step,
        exercise=e.exercise,
        set=e.set,
        rep=e.rep,
        duration_ms=e.duration_ms,
        clock_set=e.clock_set,
        time_s=e.time_s,
        time_ms=e.time_ms,
    )


def _show(item: BaseModel, as_json: bool) -> None:
    if as_json:
        typer.echo(item.model_dump_json())
        return
    match item:
        case SimReady():
            typer.echo(item.env)
            program = item.program_identity or "none"
            typer.echo(
                f"{item.name} at {item.address}: boot {item.boot_id}, program {program}, "
                f"{item.unacked_events} unacknowledged events, speed x{item.speed:g}, "
                f"wearer {item.wearer}, flash {item.flash}"
            )
        case SimVibration():
            where = "end" if item.step is None else f"step {item.step}"
            pattern = "/".join(str(t) for t in item.pattern)
            strength = "" if item.strength == 100 else f" at {item.strength}%"
            typer.echo(
                f"{_clock(item.session_ms)}  vibrate {item.cue} {pattern} ms{strength} ({where})"
            )
        case SimEvent():
            typer.echo(
                f"{'':10}  event ({item.boot_id}, {item.seq}) {item.kind}: step {item.step}, "
                f"exercise {item.exercise}, set {item.set}, rep {item.rep}, {item.duration_ms} ms"
            )
        case SimStopped():
            typer.echo(
                f"stopped: boot {item.boot_id}, {item.unacked_events} unacknowledged events kept"
            )


def _clock(session_ms: int) -> str:
    """Session time as ``mmm:ss.sss``, 10 characters."""
    minutes, ms = divmod(session_ms, 60_000)
    return f"{minutes:3d}:{ms / 1000:06.3f}"
