"""The Bangle.js (Espruino) driver's protocol: a runtime, programs as data, lines over UART.

A Bangle.js is a JavaScript REPL. Rather than a binary service, wearsync installs a small
Bangle.js app: a generic *runtime* (:func:`runtime_source`, the same for every routine,
installed once) that runs the session on the watch's own clock, buzzes every cue, and keeps
what the wearer did in Storage until the companion acknowledges it; and, for each routine, the
compiled :class:`~wearsync.routine.TimerProgram` as a small data file (:func:`program_data`).

Everything the companion sends is a line starting with ``\\x10`` (the REPL then does not echo
it); everything the runner answers is one JSON line ``{"t":"wearsync","k":...}``, parsed by
:func:`~wearsync.watches.bangle.messages.parse_line`. On connect:

1. :func:`identify_command` -> an :class:`Identity` if a runner is installed (it answers even
   with the watch's *Programmable* setting off, because commands are ``GB({...})`` lines).
2. No answer: :data:`HELLO_PROBE`; no answer to that either means Programmable is off
   (:class:`ProgrammableOffError`).
3. :func:`plan_uploads` -> what the watch lacks: the runtime if it has none or an older one
   (Storage writes, a CRC-32 check answered by a :class:`VerifyResult`, then an install line
   that loads it and only then writes the boot file), and the program if it runs another
   (writes to the free slot, a check, then a commit that loads it and only then switches the
   pointer file); each finishes with the runtime's new :class:`Identity`. Nothing when the
   watch already runs this program. Programs over :data:`MAX_STEPS` are refused first.
4. :func:`clock_commands` set the watch's clock and time zone.
5. Events arrive live as :class:`Event` lines; :func:`dump_command` replays the stored ones,
   :func:`ack_commands` removes them from the watch.

Each line is split into ATT writes of at most ``mtu - 3`` bytes by :func:`chunk_for_mtu`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Final
from zoneinfo import ZoneInfo

from wearsync.errors import WearSyncError
from wearsync.protocol.errors import EncodeError
from wearsync.routine.compiler import Step, StepKind, TimerProgram
from wearsync.routine.model import Direction, Side
from wearsync.watches.bangle.messages import (
    Ack,
    DumpDone,
    Event,
    Hello,
    Identity,
    LineAssembler,
    Reply,
    RunnerState,
    VerifyResult,
    WatchError,
    WatchMessage,
    parse_line,
)
from wearsync.watches.bangle.plan import EPOCH, NOT_ON_ROUTINE_DAYS, REMINDER_CUE, BanglePlan

__all__ = [
    "BOOT_FILE",
    "BOOT_SOURCE",
    "DATA_FILE",
    "EVENTS_FILE",
    "HELLO_PROBE",
    "MAX_STEPS",
    "POINTER_FILE",
    "REMINDER_FILE",
    "RUNNER_FILE",
    "RUNNER_VERSION",
    "SESSION_FILE",
    "STATE_FILE",
    "Ack",
    "DumpDone",
    "Event",
    "Hello",
    "Identity",
    "LineAssembler",
    "ProgramTooLargeError",
    "ProgrammableOffError",
    "Reply",
    "RunnerBusyError",
    "RunnerState",
    "Upload",
    "UploadVerifyError",
    "VerifyResult",
    "WatchError",
    "WatchMessage",
    "ack_commands",
    "check_fits",
    "check_verify",
    "chunk_for_mtu",
    "clock_commands",
    "command",
    "data_commands",
    "dump_command",
    "encode_program",
    "expect_hello",
    "identify_command",
    "parse_line",
    "plan_upload",
    "plan_uploads",
    "program_data",
    "runtime_source",
    "start_command",
    "stop_command",
    "upload_commands",
]

#: Bumped whenever the runtime (runner.js) changes, so an old one is replaced even when the
#: program is the same.
RUNNER_VERSION: Final = 3
#: The most steps a program may have on a Bangle.js 2. Measured on Espruino 2v29's
#: BANGLEJS2_LINUX build (12,000 variables; tests/watches/bangle/firmware): the runtime with
#: a loaded program takes about 1,060 variables plus 14 a step (the decoded step rows), and
#: up to 220 more while a session runs. At 300 steps that is under 5,500, less than half the
#: watch, which leaves the rest to the clock face, its widgets and the firmware; a 901-step
#: program fails with OUT OF MEMORY (and is then not committed).
MAX_STEPS: Final = 300
#: The name a program upload's :class:`VerifyResult` gives (it is written to one of two slots,
#: ``wearsync.p0`` and ``wearsync.p1``, and :data:`POINTER_FILE` names the live one).
DATA_FILE: Final = "wearsync.prog"
#: Storage file naming the program slot in use.
POINTER_FILE: Final = "wearsync.cur"
#: Storage file of the runtime (the app's generic code).
RUNNER_FILE: Final = "wearsync.js"
#: Boot file that loads the runner at every boot and app change (Bangle.js runs ``*.boot.js``).
BOOT_FILE: Final = "wearsync.boot.js"
#: StorageFile (append-only) of unacknowledged events, one JSON object a line.
EVENTS_FILE: Final = "wearsync.ev"
#: Storage file keeping the current boot id and the last sequence number.
STATE_FILE: Final = "wearsync.st"
#: Storage file a running session leaves for the next app's runtime when the app changes.
SESSION_FILE: Final = "wearsync.run"
#: Storage file keeping when a session of each entry last started (it cancels a reminder),
#: so that the rule holds across app changes, which restart the watch's JavaScript.
REMINDER_FILE: Final = "wearsync.rm"

#: Asks the REPL itself, not the runner, to answer: only a watch with Programmable on does.
HELLO_PROBE: Final = (
    b'\x10Bluetooth.println(JSON.stringify({t:"wearsync",k:"hello",fw:process.env.VERSION}))\n'
)
#: A Storage-write line is never longer than this, even when the MTU is tiny.
MIN_LINE_BUDGET: Final = 128
_ATT_HEADER: Final = 3
#: The global the runtime upload's first line defines to write the rest in short lines.
_WRITER: Final = "WSw"
#: The boot file runs the runner only if its last byte was written: an interrupted upload
#: leaves erased flash (0xFF) at the end, and a half-written runner must not run at boot.
BOOT_SOURCE: Final = (
    "(function(){var c=require('Storage').read('wearsync.js');"
    "if(c&&c.charCodeAt(c.length-1)!=255)eval(c);})()"
)
_KIND_LABELS: Final = {
    StepKind.PREPARE: "Get ready",
    StepKind.HOLD: "Hold",
    StepKind.RELEASE: "Release",
    StepKind.WORK: "Work",
    StepKind.REST: "Rest",
    StepKind.SWITCH_SIDE: "Switch side",
    StepKind.TRANSITION: "Next",
}
_KINDS: Final = tuple(StepKind)
_SIDES: Final = tuple(Side)
_DIRECTIONS: Final = tuple(Direction)
_PLACEHOLDER: Final = "/*@DATA@*/"


class ProgrammableOffError(WearSyncError):
    """The watch does not evaluate code sent over Bluetooth: its Programmable setting is off."""

    def __init__(self) -> None:
        super().__init__(
            "the Bangle.js does not answer commands: its Programmable setting is off",
            hint="on the watch open Settings > Bluetooth, turn Programmable on, then sync again",
        )


class RunnerBusyError(WearSyncError):
    """The watch is in the middle of a session; replacing the runner would end it.

    Attributes:
        state: the runner's state as it reported it (``running`` or ``paused``).
    """

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(
            f"the watch is {state} a session; the program cannot be replaced now",
            hint="finish or stop the session on the watch, then sync again",
        )


class UploadVerifyError(WearSyncError):
    """The runner stored on the watch is not the one sent (its CRC-32 or length differs).

    Attributes:
        expected_crc: CRC-32 of the source sent.
        actual_crc: CRC-32 the watch computed over its file.
        expected_length: bytes sent.
        actual_length: bytes the watch holds.
    """

    def __init__(
        self, expected_crc: int, actual_crc: int, expected_length: int, actual_length: int
    ) -> None:
        self.expected_crc = expected_crc
        self.actual_crc = actual_crc
        self.expected_length = expected_length
        self.actual_length = actual_length
        super().__init__(
            f"the runner on the watch is damaged (CRC {actual_crc:08x}, {actual_length} bytes;"
            f" sent {expected_crc:08x}, {expected_length} bytes)",
            hint="stay close to the watch and sync again",
        )


class ProgramTooLargeError(WearSyncError):
    """The program has more steps than a Bangle.js 2 can hold in memory with its runner.

    Attributes:
        steps: the program's step count.
        limit: :data:`MAX_STEPS`.
    """

    def __init__(self, steps: int, limit: int) -> None:
        self.steps = steps
        self.limit = limit
        super().__init__(
            f"the routine has {steps} timed steps; a Bangle.js 2 holds at most {limit}",
            hint="use fewer reps, sets, sides or exercises, or split the routine in two",
        )


def check_fits(program: TimerProgram) -> None:
    """Refuse, before anything is sent, a program the watch could not load.

    Raises:
        ProgramTooLargeError: more than :data:`MAX_STEPS` steps.
    """
    if len(program.steps) > MAX_STEPS:
        raise ProgramTooLargeError(len(program.steps), MAX_STEPS)


@cache
def runtime_source() -> str:
    """The generic watch-side runtime (the app's code), as Espruino JavaScript (ASCII only).

    It is the same for every routine: installed once, it runs whichever program was last
    committed as data (:func:`program_data`). Its :data:`RUNNER_VERSION` is what it reports.
    """
    data = {
        "V": str(RUNNER_VERSION),
        "K": _js_list([_js_str(_KIND_LABELS[kind]) for kind in _KINDS]),
        "D": _js_list([_js_str(side.value) for side in _SIDES]),
        "R": _js_list(
            [_js_str("" if d is Direction.NONE else d.value) for d in _DIRECTIONS],
        ),
    }
    block = "\n".join(f"var {name}={value};" for name, value in data.items())
    return _minify(_template().replace(_PLACEHOLDER, block))


def program_data(program: TimerProgram, plan: BanglePlan | None = None) -> str:
    """``program`` as the runtime reads it: one compact JSON object (ASCII only).

    Keys: ``v`` format (1), ``h`` content hash, ``p`` routine name, ``x`` exercise names,
    ``f`` per exercise ``[first step, step count]``, ``c`` per cue ``[strength %, on, off,
    on, ...]``, ``z`` the end cue; ``t`` the distinct step shapes and ``s`` the steps, both as
    rows of fixed-width base-36 fields, widths in ``tw`` and ``sw``. A shape is ``[side,
    kind, direction, duration ms, cue, countdown cue + 1 (0: none), countdown ms]``; a step is
    ``[shape, exercise, set - 1, rep]``, its exercise left out (width 0) when it is always the
    first exercise not yet over. Steps are back to back, so start times are sums of durations.

    With a ``plan`` (docs/bangle.md, "Entries and reminders"), the cue table also has the
    ``reminder`` cue (index ``y``), and ``n`` every how many days, ``d`` the first day (days
    since 1970-01-01), ``m`` the routine's minutes of the day, ``e`` per entry ``[exercise,
    first step, end step, [slot, ...]]`` with a slot's minute, plus 2048 when it is not
    planned on routine days.

    Raises:
        ProgramTooLargeError: the watch could not hold it (:func:`check_fits`).
        EncodeError: the program has no steps, or its steps are not back to back, or a step
            names a cue or an exercise the program does not define.
    """
    check_fits(program)
    return encode_program(program, plan)


def encode_program(program: TimerProgram, plan: BanglePlan | None = None) -> str:
    """:func:`program_data` without the size check (for tests that need a too-large one)."""
    if not program.steps:
        raise EncodeError("a program without steps cannot run on a watch")
    cues = dict(program.cues)
    if plan is not None:
        cues.setdefault(REMINDER_CUE, plan.reminder)
    cue_names = sorted(cues)
    cue_index = {name: i for i, name in enumerate(cue_names)}
    if program.end_cue not in cue_index:
        raise EncodeError(f"the end cue {program.end_cue!r} is not defined")
    clock = 0
    shapes: list[tuple[int, ...]] = []
    steps: list[tuple[int, ...]] = []
    for step in program.steps:
        if step.start_ms != clock:
            raise EncodeError(f"step {step.index} starts at {step.start_ms} ms, not at {clock}")
        if step.exercise >= len(program.exercises):
            raise EncodeError(f"step {step.index} belongs to no exercise of the program")
        clock = step.end_ms
        row = _step_row(step, cue_index)
        shape = (row[3], row[4], row[5], row[6], row[7], row[8] + 1, row[9])
        if shape not in shapes:
            shapes.append(shape)
        steps.append((shapes.index(shape), row[0], row[1] - 1, row[2]))
    shape_widths = _widths(shapes)
    step_widths = _widths(steps)
    if _exercise_is_implied(program):
        step_widths[1] = 0
    data = {
        "v": 1,
        "h": program.content_hash,
        "p": program.routine,
        "x": [ex.name for ex in program.exercises],
        "f": [[ex.first_step, ex.step_count] for ex in program.exercises],
        "c": [[cues[n].strength, *cues[n].pattern] for n in cue_names],
        "z": cue_index[program.end_cue],
        "tw": shape_widths,
        "t": _base36_rows(shapes, shape_widths),
        "sw": step_widths,
        "s": _base36_rows(steps, step_widths),
    }
    if plan is not None:
        data.update(_plan_fields(plan, cue_index[REMINDER_CUE], len(program.steps)))
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True)


def _plan_fields(plan: BanglePlan, reminder: int, steps: int) -> dict[str, object]:
    entries = []
    for entry in plan.entries:
        if not (0 <= entry.steps.start < entry.steps.stop <= steps):
            raise EncodeError(f"entry {entry.id!r} runs steps the program does not have")
        slots = [m + (NOT_ON_ROUTINE_DAYS if off else 0) for m, off in entry.slots]
        entries.append([entry.exercise, entry.steps.start, entry.steps.stop, slots])
    return {
        "y": reminder,
        "n": plan.every_days,
        "d": (plan.first_day - EPOCH).days,
        "m": list(plan.times),
        "e": entries,
    }


def _exercise_is_implied(program: TimerProgram) -> bool:
    # What the runtime does when the width is 0: the first exercise whose range is not over.
    x = 0
    for i, step in enumerate(program.steps):
        while x < len(program.exercises) and i >= (
            program.exercises[x].first_step + program.exercises[x].step_count
        ):
            x += 1
        if x >= len(program.exercises) or step.exercise != x:
            return False
    return True


_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"


def _widths(rows: list[tuple[int, ...]]) -> list[int]:
    """Base-36 digits each column needs (0 for a column of zeros; the first at least 1)."""
    widths = []
    for column, values in enumerate(zip(*rows, strict=True)):
        top = max(values)
        if min(values) < 0:
            raise EncodeError("a negative value cannot be encoded")
        width = 0
        while top > 0:
            width += 1
            top //= 36
        widths.append(max(width, 1) if column == 0 else width)
    return widths


def _base36_rows(rows: list[tuple[int, ...]], widths: list[int]) -> str:
    out = []
    for row in rows:
        for value, width in zip(row, widths, strict=True):
            digits = ""
            for _ in range(width):
                value, digit = divmod(value, 36)
                digits = _DIGITS[digit] + digits
            out.append(digits)
    return "".join(out)


def _step_row(step: Step, cue_index: dict[str, int]) -> list[int]:
    try:
        cue = cue_index[step.cue]
        countdown = -1 if step.countdown_cue is None else cue_index[step.countdown_cue]
    except KeyError as exc:
        raise EncodeError(f"step {step.index} names an undefined cue {exc}") from None
    return [
        step.exercise,
        step.set,
        step.rep,
        _SIDES.index(step.side),
        _KINDS.index(step.kind),
        _DIRECTIONS.index(step.direction),
        step.duration_ms,
        cue,
        countdown,
        step.countdown_ms if countdown >= 0 else 0,
    ]


@cache
def _template() -> str:
    return resources.files(__package__).joinpath("runner.js").read_text("ascii")


def _minify(source: str) -> str:
    # The template keeps comments on lines of their own, so dropping those lines and the
    # indentation is safe; newlines stay, so no statement depends on semicolon insertion.
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def _js_str(text: str) -> str:
    """A single-quoted ASCII JavaScript string literal (single quotes need no escaping in the
    JSON that carries the source in upload lines, so the upload is shorter)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in "\\'":
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append("?")
    return "'" + "".join(out) + "'"


def _js_list(items: Iterable[str]) -> str:
    return "[" + ",".join(items) + "]"


def chunk_for_mtu(data: bytes, mtu: int) -> list[bytes]:
    """Split ``data`` into ATT writes of at most ``mtu - 3`` bytes (the ATT write header).

    Raises:
        EncodeError: ``mtu`` is below the Bluetooth minimum of 23.
    """
    if mtu < 23:
        raise EncodeError(f"ATT MTU {mtu} is below the minimum of 23")
    size = mtu - _ATT_HEADER
    return [data[i : i + size] for i in range(0, len(data), size)]


def upload_commands(source: str, mtu: int) -> list[bytes]:
    """The lines that install ``source`` as the runner: Storage writes, verify, install.

    Each write line carries one piece of the source at its offset, as
    ``WSw("piece", offset)``: the first line defines ``WSw`` as
    ``require("Storage").write(file, piece, offset, total)`` and, at offset 0 with the total,
    creates the file. Each fits one ATT write when ``mtu - 3`` is at least
    :data:`MIN_LINE_BUDGET`. The
    verify line answers with a :class:`VerifyResult`; the install line, if the stored file's
    CRC-32 is right, removes the boot file, loads the runner, and only once it loaded writes
    the boot file again, so a runner that fails to load (``OUT OF MEMORY`` stops the line) is
    not run at every later boot; it answers with the new runner's :class:`Identity` (or a
    :class:`WatchError` ``crc``).

    Raises:
        EncodeError: ``source`` is not ASCII (Storage offsets count bytes), or the MTU is bad.
    """
    if not source.isascii():
        raise EncodeError("the runner source must be ASCII")
    if mtu < 23:
        raise EncodeError(f"ATT MTU {mtu} is below the minimum of 23")
    budget = max(mtu - _ATT_HEADER, MIN_LINE_BUDGET)
    total = len(source)
    name = json.dumps(RUNNER_FILE)
    lines: list[bytes] = []
    offset = 0
    while offset < total:
        # A short helper, defined by the first line, leaves more of each line to the source.
        head = (
            f'\x10global.{_WRITER}=function(d,o,t){{require("Storage").write({name},d,o,t)}};'
            f"{_WRITER}("
            if offset == 0
            else f"\x10{_WRITER}("
        )
        tail = f",{offset})\n" if offset else f",0,{total})\n"
        room = budget - len(head) - len(tail)
        # A JSON string is a JS literal, and the runtime's own quotes are single: cheap.
        piece_len = _fitting_piece(source, offset, room)
        piece = json.dumps(source[offset : offset + piece_len])
        lines.append((head + piece + tail).encode("ascii"))
        offset += piece_len
    crc = zlib.crc32(source.encode("ascii"))
    read = f'require("Storage").read({name})'
    lines.append(
        (
            f"\x10(function(){{var c={read}||'';Bluetooth.println(JSON.stringify("
            f'{{t:"wearsync",k:"crc",f:{name},crc:E.CRC32(c),len:c.length,'
            f"ok:E.CRC32(c)=={crc}&&c.length=={total}}}))}})()\n"
        ).encode("ascii")
    )
    boot = json.dumps(BOOT_SOURCE)
    lines.append(
        (
            f'\x10(function(){{var s=require("Storage"),c=s.read({name}),b={boot};'
            f"if(!c||E.CRC32(c)!={crc})return Bluetooth.println(JSON.stringify("
            f'{{t:"wearsync",k:"err",c:"install",e:"crc"}}));'
            f"delete global.{_WRITER};"
            f"s.erase({json.dumps(BOOT_FILE)});eval(c);s.write({json.dumps(BOOT_FILE)},b);"
            f'WS.cmd({{c:"id"}});}})()\n'
        ).encode("ascii")
    )
    return lines


def _fitting_piece(source: str, offset: int, room: int, *, quoted: bool = True) -> int:
    """How many characters from ``offset`` fit in ``room`` bytes once escaped: as a JSON
    string with its quotes, or (``quoted=False``) inside a single-quoted JS literal."""
    if room < 8:
        raise EncodeError("no room for data in a Storage write line")
    used = 2 if quoted else 0
    length = 0
    for ch in source[offset:]:
        cost = len(json.dumps(ch)) - 2 if quoted else len(_js_str(ch)) - 2
        if used + cost > room:
            break
        used += cost
        length += 1
    return length


def check_verify(result: VerifyResult, source: str) -> None:
    """Compare the watch's answer to the verify line with ``source``.

    Raises:
        UploadVerifyError: the stored runner differs from ``source``.
    """
    data = source.encode("ascii")
    expected = zlib.crc32(data)
    if result.crc != expected or result.length != len(data):
        raise UploadVerifyError(expected, result.crc, len(data), result.length)


def data_commands(data: str, mtu: int) -> list[bytes]:
    """The lines that commit ``data`` (:func:`program_data`) as the program the runtime runs.

    Writes ``WS.w(piece, offset[, total])`` (the size on the first) put it in the Storage
    slot not in use (the running program is untouched); ``WS.v(crc, length)`` answers a
    :class:`VerifyResult` for :data:`DATA_FILE`; ``WS.c(crc)`` loads it and, only once it
    loaded, switches the pointer file to it and answers the :class:`Identity` (else a
    :class:`WatchError` ``install``, and the previous program stays). Each line fits one ATT
    write when ``mtu - 3`` is at least :data:`MIN_LINE_BUDGET`.

    Raises:
        EncodeError: ``data`` is not ASCII, or the MTU is bad.
    """
    if not data.isascii():
        raise EncodeError("the program data must be ASCII")
    if mtu < 23:
        raise EncodeError(f"ATT MTU {mtu} is below the minimum of 23")
    budget = max(mtu - _ATT_HEADER, MIN_LINE_BUDGET)
    total = len(data)
    lines: list[bytes] = []
    offset = 0
    while offset < total:
        head = "\x10WS.w('"
        # Storage needs the file's size only when the first write creates it.
        tail = f"',{offset})\n" if offset else f"',0,{total})\n"
        room = budget - len(head) - len(tail)
        length = _fitting_piece(data, offset, room, quoted=False)
        piece = _js_str(data[offset : offset + length])[1:-1]
        lines.append((head + piece + tail).encode("ascii"))
        offset += length
    crc = zlib.crc32(data.encode("ascii"))
    lines.append(f"\x10WS.v({crc},{total})\n".encode("ascii"))
    lines.append(f"\x10WS.c({crc})\n".encode("ascii"))
    return lines


@dataclass(frozen=True)
class Upload:
    """One file to put on the watch: its write lines, its check, and what makes it live.

    Attributes:
        what: ``runtime`` (the app's generic code) or ``program`` (the routine as data).
        file: the file the :class:`VerifyResult` names.
        content: what the file must hold (for :func:`check_verify`).
        writes: the Storage write lines, in order.
        verify: the line answered by a :class:`VerifyResult`.
        finish: the line that makes it live, answered by an :class:`Identity` (or a
            :class:`WatchError` ``install``).
    """

    what: str
    file: str
    content: str
    writes: tuple[bytes, ...]
    verify: bytes
    finish: bytes

    @property
    def lines(self) -> list[bytes]:
        """Every line, in the order they are sent."""
        return [*self.writes, self.verify, self.finish]


def plan_uploads(identity: Identity | None, program_hash: str, data: str, mtu: int) -> list[Upload]:
    """What to send so the watch runs ``data``: the runtime if it has none (or an older
    one), then the program if it runs another or the same with other data (a changed plan or
    first day); nothing when it already runs exactly this data.

    Args:
        identity: what the runtime on the watch reported, or ``None`` when none answered.
        program_hash: :attr:`TimerProgram.content_hash` of the program ``data`` holds.
        data: :func:`program_data` of that program.
        mtu: the negotiated ATT MTU.

    Raises:
        RunnerBusyError: the watch is running or paused in a session.
        EncodeError: ``data`` does not carry ``program_hash``.
    """
    if program_hash not in data:
        raise EncodeError("the program data is not the one of this program")
    if identity is not None and identity.state != RunnerState.IDLE:
        raise RunnerBusyError(identity.state)
    uploads: list[Upload] = []
    fresh = identity is None or identity.runner_version != RUNNER_VERSION
    if fresh:
        source = runtime_source()
        *writes, verify, finish = upload_commands(source, mtu)
        uploads.append(Upload("runtime", RUNNER_FILE, source, tuple(writes), verify, finish))
    if (
        fresh
        or identity is None
        or identity.program_hash != program_hash
        or identity.data_crc != zlib.crc32(data.encode("ascii"))
    ):
        *writes, verify, finish = data_commands(data, mtu)
        uploads.append(Upload("program", DATA_FILE, data, tuple(writes), verify, finish))
    return uploads


def plan_upload(identity: Identity | None, program_hash: str, data: str, mtu: int) -> list[bytes]:
    """Every line of :func:`plan_uploads`, in order (what a REPL fed line by line needs)."""
    return [
        line for upload in plan_uploads(identity, program_hash, data, mtu) for line in upload.lines
    ]


def expect_hello(replies: Iterable[WatchMessage | None]) -> Hello:
    """The :class:`Hello` among the watch's answers to :data:`HELLO_PROBE`.

    The companion sends the probe, collects what the watch printed within a short wait (a
    second is plenty: the REPL answers at once), and passes the parsed lines here.

    Raises:
        ProgrammableOffError: no answer, so the watch ignores code sent over Bluetooth.
    """
    for reply in replies:
        if isinstance(reply, Hello):
            return reply
    raise ProgrammableOffError()


def command(name: str, *, req: int | None = None, **fields: int | str) -> bytes:
    """A runner command line: ``\\x10GB({"t":"wearsync","c":name,...})``.

    Strict JSON inside ``GB(...)``, because with Programmable off the watch's own line handler
    passes such lines to ``global.GB`` through ``JSON.parse``, and the runner wraps ``GB``.
    ``req``, if given, is echoed back in the answer.
    """
    body: dict[str, int | str] = {"t": "wearsync", "c": name}
    if req is not None:
        body["i"] = req
    body.update(fields)
    return b"\x10GB(" + json.dumps(body, separators=(",", ":")).encode("ascii") + b")\n"


def identify_command(req: int | None = None) -> bytes:
    """Asks the runner for its :class:`Identity`."""
    return command("id", req=req)


def start_command(req: int | None = None, *, entry: int = 0) -> bytes:
    """Starts a session now: the whole routine (``entry`` 0) or entry ``entry`` of the plan
    (:meth:`BanglePlan.number_of`); answered by a :class:`Reply` (or :class:`WatchError`
    ``busy``, ``noprog``, or ``entry`` when the program has no such entry)."""
    if entry:
        return command("start", req=req, e=entry)
    return command("start", req=req)


def stop_command(req: int | None = None) -> bytes:
    """Aborts the session; answered by a :class:`Reply` (or :class:`WatchError` ``idle``)."""
    return command("stop", req=req)


def dump_command(max_events: int = 64, req: int | None = None) -> bytes:
    """Replays up to ``max_events`` stored events, oldest first, then a :class:`DumpDone`."""
    if not 1 <= max_events <= 1000:
        raise EncodeError(f"max_events {max_events} is outside 1..1000")
    return command("dump", req=req, max=max_events)


def ack_commands(events: Iterable[Event]) -> list[bytes]:
    """Lines that remove ``events`` (and older ones of the same boot) from the watch.

    One ``ack`` per boot id, up to the highest sequence number seen in it; each is answered by
    an :class:`Ack`. Call it only for events that are safely stored.
    """
    newest: dict[int, int] = {}
    for event in events:
        newest[event.boot] = max(event.seq, newest.get(event.boot, -1))
    return [command("ack", b=boot, n=seq) for boot, seq in sorted(newest.items())]


def clock_commands(now_utc: datetime, tz: ZoneInfo) -> list[bytes]:
    """Lines that set the watch's clock to ``now_utc`` and its time zone to ``tz``'s offset.

    The offset is the one in force at ``now_utc`` (DST included; fractional hours such as 5.5
    are allowed). It is also saved in the watch's settings so that it survives a reboot; the
    companion sends these lines on every connection, which keeps DST changes right. The last
    line has the runtime (if loaded) arm its next reminder again on the new local time.

    The watch has no time-zone rules, only this offset: across a daylight-saving change
    between two syncs it keeps the old offset, so its reminders are an hour off (late after
    the spring change, early after the autumn one) until the next sync sets the new one.

    Raises:
        EncodeError: ``now_utc`` is naive.
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise EncodeError("now_utc must be an aware datetime")
    offset = now_utc.astimezone(tz).utcoffset()
    assert offset is not None  # a ZoneInfo always gives an offset for an aware time
    hours = _hours(offset.total_seconds())
    seconds = f"{now_utc.timestamp():.3f}"
    persist = (
        f"(function(s){{if(s&&s.timezone!=={hours}){{s.timezone={hours};"
        f'require("Storage").writeJSON("setting.json",s);}}}})'
        f'(require("Storage").readJSON("setting.json",1))'
    )
    return [
        f"\x10setTime({seconds})\n".encode("ascii"),
        f"\x10E.setTimeZone({hours})\n".encode("ascii"),
        f"\x10{persist}\n".encode("ascii"),
        b"\x10if(global.WS&&WS.arm)WS.arm()\n",
    ]


def _hours(seconds: float) -> str:
    hours = round(seconds / 3600, 4)
    return str(int(hours)) if hours == int(hours) else repr(hours)
