"""What every command shares: option aliases, JSON-or-human output, and the one error path.

Every command builds a pydantic result model. With ``--json`` the model is printed as JSON;
otherwise a render function prints it for people. Errors are :class:`WearSyncError` raised from
anywhere below; :class:`WearSyncGroup` turns them into one ``error:`` line (and a ``hint:`` line)
on stderr with the error's exit status, never a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperGroup

from wearsync.errors import WearSyncError

if TYPE_CHECKING:  # pydantic costs ~50 ms to import; --help must not pay for it
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print the result as JSON (a pydantic model) instead of text."),
]


def fail(
    code: int, message: str, hint: str | None = None, *, as_json: bool = False, kind: str = ""
) -> NoReturn:
    """Report an error on stderr and exit with ``code``.

    People get ``error: message`` (and ``hint: ...``); with ``--json`` one line
    ``{"error": {"message", "hint", "code", "type"}}`` with the same exit status.
    """
    if as_json:
        error = {"message": message, "hint": hint, "code": code, "type": kind or "error"}
        typer.echo(json.dumps({"error": error}), err=True)
    else:
        typer.echo(f"error: {message}", err=True)
        if hint:
            typer.echo(f"hint: {hint}", err=True)
    raise typer.Exit(code)


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asks for JSON output (errors included)."""
    return "--json" in args


class WearSyncGroup(TyperGroup):
    """A command group that reports :class:`WearSyncError` as one line instead of a traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click; its Context type is private
        # The arguments left for the sub-command (typer's vendored click keeps them private).
        rest = getattr(ctx, "protected_args", None) or getattr(ctx, "_protected_args", [])
        as_json = wants_json([*rest, *ctx.args])
        try:
            return super().invoke(ctx)
        except WearSyncError as exc:
            fail(exc.exit_code, exc.message, exc.hint, as_json=as_json, kind=type(exc).__name__)
        except KeyboardInterrupt:
            fail(130, "interrupted", as_json=as_json, kind="KeyboardInterrupt")
        except Exception as exc:
            # A usage error of a sub-command (typer's vendored click raises it while parsing
            # the sub-command's options, inside this invoke): JSON too under --json.
            if not as_json or not hasattr(exc, "format_message"):
                raise
            code = int(getattr(exc, "exit_code", 2))
            fail(code, str(exc.format_message()), as_json=True, kind=type(exc).__name__)


#: The libraries under the CLI whose own logging would otherwise reach the terminal.
STACK_LOGGERS = ("bumble", "bleak", "bleak_retry_connector", "aiohttp")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _OneLineHandler(logging.Handler):
    """Writes a record as one ``warning: <logger>: <message>`` line on the current stderr.

    A library that logs an exception (bumble does, in red, when a transport drops mid-sync)
    would print its traceback ahead of our own ``error:`` line. The exception is kept,
    summarised as its type and message on the same line, and every level is shown as a
    warning: the one ``error:`` line is wearsync's, which says what failed and what to do.
    ``sys.stderr`` is looked up at each record, so a test runner that swaps it sees the lines.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = _one_line(record.getMessage())
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                message += f" ({type(exc).__name__}: {_one_line(str(exc))})"
            sys.stderr.write(f"warning: {record.name}: {message}\n")
        except Exception:  # a logging handler must never raise into the library
            self.handleError(record)


def _one_line(text: str) -> str:
    return " ".join(_ANSI.sub("", text).split())


def quiet_stack_loggers() -> None:
    """Show only warnings and worse from the BLE and HTTP stacks, one line each, no traceback.

    Called once for every command by the root callback, so ``sync``, ``session`` and ``sim``
    behave like ``serve``. Idempotent.
    """
    # wearsync's own warnings (no handler configured, except under 'serve') reach stderr
    # through logging's last-resort handler: give it the same one-line form.
    if not isinstance(logging.lastResort, _OneLineHandler):
        logging.lastResort = _OneLineHandler(logging.WARNING)
    for name in STACK_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if not any(isinstance(h, _OneLineHandler) for h in logger.handlers):
            logger.addHandler(_OneLineHandler())
        logger.propagate = False


def new_app(**kwargs: Any) -> typer.Typer:
    """A :class:`typer.Typer` with wearsync's defaults (no pretty tracebacks, -h for help)."""
    kwargs.setdefault("cls", WearSyncGroup)
    kwargs.setdefault("rich_markup_mode", None)
    return typer.Typer(
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        **kwargs,
    )


def emit(result: M, as_json: bool, render: Callable[[M], None]) -> None:
    """Print ``result`` as JSON or through ``render``."""
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        render(result)


def format_duration(ms: int) -> str:
    """``95000`` -> ``1:35``; ``3_725_000`` -> ``1:02:05``."""
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


HciOption = Annotated[
    str | None,
    typer.Option(
        "--hci",
        envvar="WEARSYNC_HCI",
        help=(
            "Bluetooth HCI transport for the bumble stack, e.g. tcp-client:127.0.0.1:7461 for "
            "'wearsync sim' (default: the computer's own Bluetooth through bleak)."
        ),
    ),
]


RoutineRefOption = Annotated[
    str, typer.Option("--routine", "-r", help="Built-in routine name or .toml file.")
]
DeviceOption = Annotated[
    str | None,
    typer.Option("--device", "-d", help="Watch name or address (default: the one synced last)."),
]
ScanSecondsOption = Annotated[
    float, typer.Option("--scan-seconds", min=0.5, max=120, help="How long to look.")
]


class Progress:
    """A one-line progress display on stderr (so ``--json`` output stays clean).

    Use as a context manager; call it with a message to update the line.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._status: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console

            self._status = Console(stderr=True).status("starting")
            self._status.__enter__()
        return self

    def __call__(self, message: str) -> None:
        if self._status is not None:
            self._status.update(message)

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
