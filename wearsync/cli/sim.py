"""``wearsync sim``: run a simulated watch that other wearsync commands can sync with.

The watch runs on a virtual radio served as HCI over TCP on 127.0.0.1; point any other
command at it with the printed ``WEARSYNC_HCI=tcp-client:127.0.0.1:PORT``. ``--watch`` picks
which watch it plays (every family registers the simulators it has). Its flash (program,
events, bonds) lives in a directory, so it remembers them across runs. Vibrations, alerts and
events are printed as they happen; Ctrl-C or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from wearsync.cli.common import JsonOption, new_app
from wearsync.errors import InputError, WearSyncError
from wearsync.sim.clock import MAX_SPEED

app = new_app()

DEFAULT_PORT = 7461
DEFAULT_WATCH = "wearsync-timer"


class SimError(WearSyncError):
    """The simulator could not start."""


def _features(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text, 0)
    except ValueError:
        raise InputError(f"--features: {text!r} is not a number (e.g. 0x0e)") from None
    if not 0 <= value <= 0xFFFF:
        raise InputError(f"--features: {text} is not a 16-bit mask")
    return value


@app.command()
def sim(
    watch: Annotated[
        str,
        typer.Option(
            "--watch",
            "-w",
            help="Which watch to play: wearsync-timer, nimble (the C firmware), bangle-js-2, "
            "infinitime, immediate-alert (every registered simulator).",
        ),
    ] = DEFAULT_WATCH,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="TCP port on 127.0.0.1 (0: any free).")
    ] = DEFAULT_PORT,
    flash: Annotated[
        Path | None,
        typer.Option(
            "--flash", help="Directory of the watch's flash (default: DATA_DIR/sim/WATCH)."
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            min=0.001,
            max=MAX_SPEED,
            help="Watch time per real time: 60 runs a minute a second.",
        ),
    ] = 1.0,
    wearer: Annotated[
        str,
        typer.Option(
            "--wearer",
            help=(
                "What the wearer does, e.g. 'skip=2,pause=10:5000,abort=40,start=0' "
                "(indices from 0, times in ms; default: every step, the companion starts; "
                "timer-service watches only)."
            ),
        ),
    ] = "",
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            help="Timer Info feature mask to offer (docs/protocol.md table 3-1), e.g. 0x0e for "
            "a watch without SESSION_CONTROL (default: all).",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Advertised name (default: the watch's own).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a simulated watch until interrupted."""
    from wearsync.paths import data_dir
    from wearsync.sim.wearer import Wearer
    from wearsync.watches.registry import simulators

    known = simulators()
    if watch not in known:
        raise InputError(
            f"--watch: unknown watch {watch!r}", hint=f"choose one of {', '.join(sorted(known))}"
        )
    if not math.isfinite(speed):
        raise InputError("--speed: must be a finite number")
    script = Wearer.parse(wearer)
    mask = _features(features)
    default = data_dir() / "sim" if watch == DEFAULT_WATCH else data_dir() / "sim" / watch
    directory = flash if flash is not None else default
    asyncio.run(_serve(watch, port, directory, speed, script, mask, name, as_json))


async def _serve(
    watch_name: str,
    port: int,
    directory: Path,
    speed: float,
    wearer: Any,
    features: int | None,
    name: str | None,
    as_json: bool,
) -> None:
    # bumble costs half a second to import: only here, never at CLI start-up.
    from wearsync.sim.hci_server import HciServer
    from wearsync.sim.link import VirtualLink
    from wearsync.sim.simulated import SimOptions
    from wearsync.watches.registry import simulators

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def emit(line: dict[str, Any]) -> None:
        _show(line, as_json)

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
        options = SimOptions(
            link, directory, speed, wearer, name, features, emit, hci_port=server.port
        )
        running = await simulators()[watch_name].start(options)
        emit(
            {
                "type": "ready",
                "watch": watch_name,
                "hci": server.hci_spec,
                "env": f"WEARSYNC_HCI={server.hci_spec}",
                "name": running.name,
                "address": running.address,
                "flash": str(directory),
                "speed": speed,
                "wearer": str(wearer),
                **running.summary(),
            }
        )
        await stop.wait()
        stopped = {"type": "stopped", "watch": watch_name, **running.summary()}
        await running.close()
        emit(stopped)
    finally:
        await server.close()


def _show(line: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(line, default=str))
        return
    kind = line["type"]
    if kind == "ready":
        typer.echo(line["env"])
        held = ", ".join(
            f"{key.replace('_', ' ')} {value}"
            for key, value in line.items()
            if key not in {"type", "env", "hci", "name", "address", "watch"}
        )
        typer.echo(f"{line['name']} ({line['watch']}) at {line['address']}: {held}")
    elif kind == "vibration":
        where = ""
        if "step" in line:
            where = "end" if line["step"] is None else f"step {line['step']}"
        pattern = "/".join(str(t) for t in line["pattern"])
        strength = "" if line.get("strength", 100) == 100 else f" at {line['strength']}%"
        at = line.get("session_ms", line.get("watch_ms", 0))
        typer.echo(f"{_clock(at)}  vibrate {line['cue']} {pattern} ms{strength} {where}".rstrip())
    elif kind == "event":
        typer.echo(
            f"{'':10}  event ({line['boot_id']}, {line['seq']}) {line['kind']}: step "
            f"{line['step']}, exercise {line['exercise']}, set {line['set']}, rep {line['rep']}, "
            f"{line['duration_ms']} ms"
        )
    elif kind == "alert":
        what = line.get("level") or f"{line.get('title', '')}: {line.get('body', '')}"
        typer.echo(f"{line['watch_time']}  alert {what}")
    elif kind == "stopped":
        rest = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in line.items() if k != "type")
        typer.echo(f"stopped: {rest}")


def _clock(session_ms: int) -> str:
    """Session time as ``mmm:ss.sss``, 10 characters."""
    minutes, ms = divmod(session_ms, 60_000)
    return f"{minutes:3d}:{ms / 1000:06.3f}"
