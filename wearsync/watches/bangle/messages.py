"""What a Bangle.js running the wearsync runner prints: JSON lines, parsed into frozen values.

The watch's Nordic UART TX carries everything its REPL prints: prompts, echoes, error messages,
other apps' Gadgetbridge lines, and ours, ``{"t":"wearsync","k":<kind>,...}`` followed by
``\\r\\n``. :class:`LineAssembler` turns notification chunks (split anywhere) into lines;
:func:`parse_line` turns a line into a :data:`WatchMessage`, ``None`` for a line that is not
ours, or :class:`~wearsync.protocol.errors.DecodeError` for one that claims to be ours (it
names ``"t":"wearsync"``) but is malformed or cut short.

The message kinds, table-driven below (``k`` on the wire):

============ ============= ==========================================================
``k``        value         sent in answer to
============ ============= ==========================================================
``hello``    Hello         the Programmable probe (the REPL answers it, not the runner)
``id``       Identity      ``id``, and the install line
``ev``       Event         live, as things happen; ``re: 1`` when replayed by ``dump``
``dump``     DumpDone      ``dump``, after the events
``ack``      Ack           ``ack``
``crc``      VerifyResult  the upload's verify line
``ok``       Reply         ``start`` and ``stop``
``err``      WatchError    any command that failed
============ ============= ==========================================================
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from wearsync.protocol.errors import DecodeError

_WHAT: Final = "Bangle.js line"
_MARKER: Final = re.compile(r'"t"\s*:\s*"wearsync"')
#: Characters the REPL may leave before our JSON: its ``>`` prompt and line editing.
_PROMPT: Final = " \t\r>\x08"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class RunnerState(StrEnum):
    """What the runner is doing."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"


@dataclass(frozen=True)
class Hello:
    """The REPL answered the probe, so the watch's Programmable setting is on.

    Attributes:
        firmware: the Espruino firmware version (``process.env.VERSION``), if it said.
    """

    firmware: str | None


@dataclass(frozen=True)
class Identity:
    """The installed runner: which program it runs, and where its event log stands.

    Attributes:
        program_hash: :attr:`TimerProgram.content_hash` of the program baked into the runner.
        runner_version: the runner template's version.
        routine: the routine's name.
        boot: the random id of this runner's lifetime (renewed at every boot or app change).
        seq: the last sequence number used (persisted, never goes back).
        unacked: events kept on the watch until acknowledged.
        state: ``idle``, ``running`` or ``paused`` (kept as a plain string if unknown).
        step: the current (or last) step index.
        now_ms: the watch's clock, ms since the Unix epoch.
        req: the request id echoed back, if the command carried one.
        data_crc: CRC-32 of the program data it loaded (None from a runner before version 3,
            or with no program).
    """

    program_hash: str
    runner_version: int
    routine: str
    boot: int
    seq: int
    unacked: int
    state: str
    step: int
    now_ms: int
    req: int | None = None
    data_crc: int | None = None


@dataclass(frozen=True)
class Event:
    """Something that happened in a session, as the watch recorded it.

    Attributes:
        boot: the runner lifetime the event belongs to.
        seq: its sequence number (unique per watch; ``(boot, seq)`` identifies the event).
        at_ms: the watch's clock when it happened, ms since the Unix epoch (UTC).
        kind: ``session_started``, ``step_started``, ``exercise_completed``,
            ``exercise_skipped``, ``paused``, ``resumed``, ``session_completed``,
            ``session_aborted``, ``reminder`` (a planned time, outside any session), or a
            newer kind, kept as it came.
        exercise: exercise index in the program (0-based).
        set: 1-based set of the step it happened in.
        rep: repetition (0 outside one).
        side: ``both``, ``left`` or ``right``.
        step: step index in the program.
        duration_ms: the step's planned length for ``step_started``; for completions and
            skips the time since the exercise began, pauses included; for ``resumed`` the
            pause; for session ends the whole session.
        program: the first 12 hex digits of the program hash the runner had.
        replayed: sent by ``dump`` rather than live.
        entry: what ran (or, for ``reminder``, what is due): 0 the whole routine, *n* the
            *n*-th entry of the program's plan.
    """

    boot: int
    seq: int
    at_ms: int
    kind: str
    exercise: int
    set: int
    rep: int
    side: str
    step: int
    duration_ms: int
    program: str
    replayed: bool = False
    entry: int = 0

    @property
    def at(self) -> datetime:
        """:attr:`at_ms` as an aware UTC datetime."""
        return _EPOCH + timedelta(milliseconds=self.at_ms)


@dataclass(frozen=True)
class DumpDone:
    """The end of a replay: ``sent`` events came before it, ``left`` more are stored."""

    sent: int
    left: int
    req: int | None = None


@dataclass(frozen=True)
class Ack:
    """Events of ``boot`` up to ``seq`` were removed; ``left`` remain on the watch."""

    boot: int
    seq: int
    removed: int
    left: int
    req: int | None = None


@dataclass(frozen=True)
class VerifyResult:
    """The watch's CRC-32 of an uploaded file; ``ok`` if it matched what the upload expected."""

    file: str
    crc: int
    length: int
    ok: bool


@dataclass(frozen=True)
class Reply:
    """A command was done (``command`` is ``start`` or ``stop``)."""

    command: str
    req: int | None = None


@dataclass(frozen=True)
class WatchError:
    """A command failed on the watch: ``busy``, ``idle``, ``unknown``, ``crc`` or a JS error."""

    command: str
    error: str
    req: int | None = None


WatchMessage = Hello | Identity | Event | DumpDone | Ack | VerifyResult | Reply | WatchError


def parse_line(line: bytes) -> WatchMessage | None:
    """Parse one line the watch printed (without its line ending; ``\\r`` is tolerated).

    Returns:
        The message, or ``None`` for a line that is not ours (REPL prompts and echoes, other
        apps' JSON, blank lines).

    Raises:
        DecodeError: the line names ``"t":"wearsync"`` but is not valid JSON (e.g. cut short),
            or a field is missing or of the wrong type, or its kind is unknown.
    """
    text = line.decode("latin-1").strip().lstrip(_PROMPT)
    if not text.startswith("{"):
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        if _MARKER.search(text):
            raise DecodeError(_WHAT, "malformed or truncated JSON") from None
        return None
    if not isinstance(obj, dict) or obj.get("t") != "wearsync":
        return None
    kind = obj.get("k")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise DecodeError(_WHAT, f"unknown message kind {kind!r}")
    return parser(_Fields(obj, str(kind)))


class _Fields:
    """Typed access to a message's fields; every problem is a DecodeError naming the field."""

    def __init__(self, obj: dict[str, Any], kind: str) -> None:
        self.obj = obj
        self.kind = kind

    def fail(self, key: str, problem: str) -> DecodeError:
        return DecodeError(_WHAT, f"{self.kind!r} message: field {key!r} {problem}")

    def integer(self, key: str, *, low: int = 0, high: int = 2**53) -> int:
        value = self.obj.get(key)
        # JSON numbers may come as floats from Espruino; only integral ones are accepted.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "is missing or not a number")
        if not math.isfinite(value) or value != int(value):
            raise self.fail(key, "is not an integer")
        number = int(value)
        if not low <= number <= high:
            raise self.fail(key, f"is outside {low}..{high}")
        return number

    def text(self, key: str) -> str:
        value = self.obj.get(key)
        if not isinstance(value, str):
            raise self.fail(key, "is missing or not a string")
        return value

    def opt_int(self, key: str, *, high: int = 2**53) -> int | None:
        return None if self.obj.get(key) is None else self.integer(key, high=high)

    def opt_str(self, key: str) -> str | None:
        return None if self.obj.get(key) is None else self.text(key)

    def flag(self, key: str) -> bool:
        value = self.obj.get(key, False)
        if value in (0, 1) and not isinstance(value, float):
            return bool(value)
        raise self.fail(key, "is not a flag")

    def req(self) -> int | None:
        return None if self.obj.get("i") is None else self.integer("i", high=2**31)


def _hello(f: _Fields) -> Hello:
    return Hello(firmware=f.opt_str("fw"))


def _identity(f: _Fields) -> Identity:
    return Identity(
        program_hash=f.text("hash"),
        runner_version=f.integer("v"),
        routine=f.text("prog"),
        boot=f.integer("boot", high=2**32 - 1),
        seq=f.integer("seq"),
        unacked=f.integer("unacked"),
        state=f.text("state"),
        step=f.integer("step"),
        now_ms=f.integer("now"),
        req=f.req(),
        data_crc=f.opt_int("dc", high=2**32 - 1),
    )


def _event(f: _Fields) -> Event:
    return Event(
        boot=f.integer("boot", high=2**32 - 1),
        seq=f.integer("seq"),
        at_ms=f.integer("at"),
        kind=f.text("kind"),
        exercise=f.integer("ex"),
        set=f.integer("set"),
        rep=f.integer("rep"),
        side=f.text("side"),
        step=f.integer("step"),
        duration_ms=f.integer("dur"),
        program=f.text("prog"),
        replayed=f.flag("re"),
        entry=f.opt_int("en", high=255) or 0,
    )


def _dump(f: _Fields) -> DumpDone:
    return DumpDone(sent=f.integer("n"), left=f.integer("left"), req=f.req())


def _ack(f: _Fields) -> Ack:
    return Ack(
        boot=f.integer("b", high=2**32 - 1),
        seq=f.integer("n"),
        removed=f.integer("removed"),
        left=f.integer("left"),
        req=f.req(),
    )


def _verify(f: _Fields) -> VerifyResult:
    ok = f.obj.get("ok")
    if not isinstance(ok, bool):
        raise f.fail("ok", "is not a boolean")
    return VerifyResult(
        file=f.text("f"), crc=f.integer("crc", high=2**32 - 1), length=f.integer("len"), ok=ok
    )


def _reply(f: _Fields) -> Reply:
    return Reply(command=f.text("c"), req=f.req())


def _error(f: _Fields) -> WatchError:
    return WatchError(command=f.text("c"), error=f.text("e"), req=f.req())


_PARSERS: Final[dict[str, Callable[[_Fields], WatchMessage]]] = {
    "hello": _hello,
    "id": _identity,
    "ev": _event,
    "dump": _dump,
    "ack": _ack,
    "crc": _verify,
    "ok": _reply,
    "err": _error,
}


class LineAssembler:
    """Reassembles the watch's output, notified in chunks split anywhere, into whole lines.

    Lines end with ``\\n``; a ``\\r`` before it is dropped. A line growing past ``max_line``
    bytes without an end (a lost notification, a runaway print) is thrown away up to its next
    end rather than kept growing; :attr:`overflows` counts how often.
    """

    def __init__(self, max_line: int = 16384) -> None:
        self.max_line = max_line
        self.overflows = 0
        self._buffer = bytearray()
        self._discarding = False

    @property
    def pending(self) -> bytes:
        """Bytes received after the last line end."""
        return bytes(self._buffer)

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add ``chunk``; return the lines it completed, oldest first, without line ends."""
        lines: list[bytes] = []
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if self._discarding:
                self._discarding = False
            else:
                self._buffer += chunk[start:end]
                lines.append(bytes(self._buffer.removesuffix(b"\r")))
            self._buffer.clear()
            start = end + 1
        if not self._discarding:
            self._buffer += chunk[start:]
            if len(self._buffer) > self.max_line:
                self.overflows += 1
                self._buffer.clear()
                self._discarding = True
        return lines
