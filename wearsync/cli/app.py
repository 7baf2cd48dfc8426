"""The ``wearsync`` command: the root typer app and its lazily loaded sub-commands.

Start-up must stay cheap (``wearsync --help`` under 0.3 s; see scripts/bench_startup.py). So the
root knows each sub-command only by module name and one line of help, and imports the module
(with its pydantic models, bleak, bumble, aiohttp or icalendar) only when that command runs.
A new command is one module under ``wearsync/cli/`` exposing a typer ``app``, plus one line in
:data:`COMMANDS`.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer

from wearsync import __version__
from wearsync.cli.common import WearSyncGroup, new_app, quiet_stack_loggers

#: name -> (module exposing ``app``, one-line help shown by ``wearsync --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("wearsync.cli.demo", "Run the main job on a simulated watch (no Bluetooth needed)."),
    "routine": ("wearsync.cli.routine", "List, show, plan and validate routines."),
    "history": ("wearsync.cli.history", "Sessions done per day and adherence to the schedule."),
    "export": ("wearsync.cli.export", "Export the schedule and sessions as an iCalendar file."),
    "feed": ("wearsync.cli.feed", "Serve the calendar feed; print or rotate its secret URL."),
    "sync": ("wearsync.cli.sync", "Push the routine to the watch and read back what was done."),
    "devices": ("wearsync.cli.devices", "Find compatible wearables nearby."),
    "session": ("wearsync.cli.session", "Run the routine on the watch and mirror it live."),
    "serve": ("wearsync.cli.serve", "Keep the watch in sync on a schedule and serve the feed."),
    "sim": ("wearsync.cli.sim", "Run a simulated watch for the other commands to talk to."),
}


class LazyRootGroup(WearSyncGroup):
    """The root group: sub-commands are imported on first use, not at start-up."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, short_help = COMMANDS[cmd_name]
        module = importlib.import_module(module_name)
        command = typer.main.get_command(module.app)
        command.name = cmd_name
        if not command.help:
            command.help = short_help
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = new_app(
    cls=LazyRootGroup,
    rich_markup_mode=None,
    help=(
        "Sync home exercise routines to a wearable's vibration timer, read back what was done, "
        "and publish the schedule as a calendar feed."
    ),
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wearsync {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Sync exercise routines to a wearable and a calendar feed."""
    quiet_stack_loggers()


def main() -> None:
    """Console-script entry point."""
    app()
