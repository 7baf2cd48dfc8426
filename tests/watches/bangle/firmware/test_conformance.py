"""The generated runner on Espruino's own interpreter, against the Node.js stand-in.

The stand-in (``wearsync/watches/bangle/espruino``) runs on a virtual clock and accepts any
JavaScript Node does; these tests run the same bytes on ``BANGLEJS2_LINUX`` (the watch's
12,000 variables, native Storage, timers, ``setWatch``) in real time. A session is played once
on the real interpreter with button presses and a clock change; the moments the runner itself
reported for those inputs are then replayed on the stand-in's virtual clock, and the two
timelines must agree: the same events in the same order, the same pulses, each at the same
offset from the session's start within :data:`LATENESS_MS` (how late a Linux timer may fire on
a loaded machine; the runner computes every cue from the session's start, so lateness never
adds up).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import pytest

from tests.watches.bangle.espruino.conftest import messages, needs_node, send, send_all
from tests.watches.bangle.firmware.conftest import needs_espruino
from tests.watches.bangle.firmware.harness import LINUX_BINARY, Pulse, RealEspruino
from wearsync.routine import (
    CompileOptions,
    TimerProgram,
    compile_routine,
    load_routine,
    parse_routine,
)
from wearsync.watches.bangle.app_loader import app_files
from wearsync.watches.bangle.codec import (
    BOOT_FILE,
    MAX_STEPS,
    POINTER_FILE,
    RUNNER_FILE,
    RUNNER_VERSION,
    Event,
    Identity,
    VerifyResult,
    check_verify,
    clock_commands,
    data_commands,
    encode_program,
    parse_line,
    plan_upload,
    plan_uploads,
    program_data,
    runtime_source,
    start_command,
    upload_commands,
)
from wearsync.watches.bangle.espruino import EspruinoVM

pytestmark = [needs_espruino, needs_node]

MTU: Final = 131
LATENESS_MS: Final = 150
#: A routine of about eight seconds: two exercises, countdown ticks, a transition.
QUICK_ROUTINE: Final = """
format = 1
name = "quick"
title = "Quick"
prepare_seconds = 1
transition_seconds = 1
[schedule]
every_days = { min = 1, max = 1 }
[[exercises]]
id = "press"
name = "Press"
hold = { seconds = 1 }
release = { seconds = 1 }
reps = 2
[[exercises]]
id = "walk"
name = "Walk"
work = { seconds = 2 }
rest = { seconds = 1 }
reps = 1
"""
CLOCK_JUMP_MS: Final = 3_600_000


@pytest.fixture(scope="module")
def quick() -> TimerProgram:
    return compile_routine(parse_routine(QUICK_ROUTINE), CompileOptions(countdown_seconds=1))


def install(watch: RealEspruino, program: TimerProgram) -> list[bytes]:
    """Send the upload lines of ``program`` (runtime, then data); what the watch answered."""
    lines = []
    for upload in plan_uploads(None, program.content_hash, program_data(program), MTU):
        watch.send_all(upload.lines)
        lines.append(watch.wait_bt(lambda line: b'"k":"crc"' in line))
        lines.append(watch.wait_bt(lambda line: b'"k":"id"' in line or b'"k":"err"' in line))
    return lines


def test_runtime_loads_on_both_builds(tmp_path: Path, bangle: RealEspruino) -> None:
    """The runtime evaluated on the plain and the Bangle.js build defines its functions.

    Espruino reads a function's body only when it runs, so only code that runs is checked:
    loading defines every function (their parameter lists are parsed: default values are
    refused here); the tests that play sessions run the bodies.
    """
    code = json.dumps(runtime_source())
    with RealEspruino(LINUX_BINARY, tmp_path, stubs=()) as linux:
        for watch in (linux, bangle):
            watch.send(f"\x10eval({code})\n".encode("ascii"))
            assert watch.evaluate("typeof WS=='object'&&typeof WS.cmd=='function'") is True
            assert watch.errors() == []


#: Timer calls whose outcome the stand-in once got wrong; each prints what happened.
TIMER_PROBE: Final = (
    "var r=[],f=function(){r.push('fired')};"
    "try{clearTimeout(12345);r.push('unknown ignored')}catch(e){r.push('unknown throws')}"
    "setTimeout(f,1);"
    "try{clearTimeout(undefined);r.push('undefined ignored')}catch(e){r.push('undefined throws')}"
    "setTimeout(function(){clearTimeout();setTimeout(f,1);clearTimeout();"
    "setTimeout(function(){Bluetooth.println(JSON.stringify(r))},5)},20);"
)


async def test_timer_calls_behave_as_on_the_firmware(tmp_path: Path, bangle: RealEspruino) -> None:
    bangle.send(f"\x10{TIMER_PROBE}\n".encode("ascii"))
    real = json.loads(bangle.wait_bt(lambda line: line.startswith(b"[")))
    assert real == ["unknown ignored", "undefined throws", "fired"]
    async with EspruinoVM(tmp_path / "stand-in.json") as vm:
        await send(vm, f"\x10{TIMER_PROBE}\n".encode("ascii"))
        await vm.advance(50)
        assert [json.loads(line) for line in vm.read_lines()] == [real]


class TestInstall:
    def test_installs_from_the_exact_upload_bytes(self, bangle: RealEspruino) -> None:
        program = compile_routine(load_routine("foot-care"))
        data = program_data(program)
        found = [m for m in map(parse_line, install(bangle, program)) if m is not None]
        runtime, stored = (m for m in found if isinstance(m, VerifyResult))
        check_verify(runtime, runtime_source())
        check_verify(stored, data)
        ident = next((m for m in found[::-1] if isinstance(m, Identity)), None)
        assert ident is not None, f"no identity; the watch answered {found}"
        assert (ident.program_hash, ident.routine, ident.state) == (
            program.content_hash,
            "foot-care",
            "idle",
        )
        read = "require('Storage').read"
        assert bangle.evaluate(f"{read}({json.dumps(RUNNER_FILE)})") == runtime_source()
        assert bangle.evaluate(f"{read}({read}({json.dumps(POINTER_FILE)}))") == data
        assert bangle.errors() == []

    def test_a_program_change_sends_only_the_data(
        self, bangle: RealEspruino, quick: TimerProgram
    ) -> None:
        install(bangle, quick)
        other = _presses(3)
        ident = parse_line(bangle.bluetooth[-1])
        assert isinstance(ident, Identity)
        (upload,) = plan_uploads(ident, other.content_hash, program_data(other), MTU)
        bangle.send_all(upload.lines)
        line = bangle.wait_bt(lambda line: b'"k":"id"' in line)
        after = parse_line(line)
        assert isinstance(after, Identity) and after.program_hash == other.content_hash
        assert bangle.errors() == []


@dataclass(frozen=True)
class Timeline:
    """A session as one watch played it, times in ms from the session's start."""

    events: list[tuple[str, int, int]]  # kind, step, offset
    durations: list[int]
    pulses: list[tuple[int, int, float]]  # on offset, length, strength

    def mismatches(self, other: Timeline) -> list[str]:
        problems: list[str] = []
        mine = [(k, s) for k, s, _ in self.events]
        theirs = [(k, s) for k, s, _ in other.events]
        if mine != theirs:
            problems.append(f"events differ:\n  real  {mine}\n  stand {theirs}")
        for (k, s, a), (_, _, b) in zip(self.events, other.events, strict=False):
            if abs(a - b) > LATENESS_MS:
                problems.append(f"{k} of step {s} at {a} ms, stand-in at {b} ms")
        for a, b in zip(self.durations, other.durations, strict=False):
            if abs(a - b) > LATENESS_MS:
                problems.append(f"duration {a} ms, stand-in {b} ms")
        if [p[1:] for p in self.pulses] != [p[1:] for p in other.pulses]:
            problems.append(f"pulses differ:\n  real  {self.pulses}\n  stand {other.pulses}")
        for a, b in zip(self.pulses, other.pulses, strict=False):
            if abs(a[0] - b[0]) > LATENESS_MS:
                problems.append(f"pulse at {a[0]} ms, stand-in at {b[0]} ms")
        return problems


def timeline(found: list[Event], pulses: list[tuple[int, int, float]]) -> Timeline:
    start = next(e for e in found if e.kind == "session_started")
    t0 = start.at_ms
    return Timeline(
        events=[(e.kind, e.step, e.at_ms - t0) for e in found],
        durations=[e.duration_ms for e in found if not e.kind.endswith("started")],
        pulses=pulses,
    )


def real_events(lines: list[bytes]) -> list[Event]:
    return [m for m in map(parse_line, lines) if isinstance(m, Event)]


@dataclass(frozen=True)
class Inputs:
    """When the wearer and the companion acted, in ms from the session's start."""

    pause: int
    resume: int
    clock: int
    skip: int


@pytest.mark.slow
async def test_session_with_presses_and_a_clock_change_matches_the_stand_in(
    tmp_path: Path, bangle: RealEspruino, quick: TimerProgram
) -> None:
    real, moved = _real_session(bangle, quick)
    kinds = [k for k, _, _ in real.events]
    assert {"paused", "resumed", "exercise_skipped", "session_completed"} <= set(kinds)

    def when(kind: str) -> int:
        return next(t for k, _, t in real.events if k == kind)

    inputs = Inputs(when("paused"), when("resumed"), round(moved), when("exercise_skipped"))
    stand = await _stand_in(tmp_path / "stand-in.json", quick, inputs)
    problems = real.mismatches(stand)
    assert not problems, "\n".join(problems)


def _real_session(bangle: RealEspruino, quick: TimerProgram) -> tuple[Timeline, float]:
    """The session on the real interpreter, in real time; and when the clock was changed."""
    install(bangle, quick)
    bangle.bt_lines()
    t0 = time.monotonic()

    def at(offset_ms: int) -> None:
        time.sleep(max(0.0, t0 + offset_ms / 1000 - time.monotonic()))

    bangle.send(start_command())
    at(1300)
    bangle.set_button(True)  # a short press pauses (on release)
    at(1450)
    bangle.set_button(False)
    at(2000)
    bangle.set_button(True)  # ... and another resumes
    at(2150)
    bangle.set_button(False)
    at(2600)
    wall = datetime.fromtimestamp(bangle.sync() / 1000 + CLOCK_JUMP_MS / 1000, tz=UTC)
    clock_at = bangle.sync()
    bangle.send_all(clock_commands(wall, ZoneInfo("Asia/Kolkata")))
    at(3000)
    bangle.set_button(True)  # held for a second: skip the exercise
    at(4300)
    bangle.set_button(False)
    bangle.wait_bt(lambda line: b"session_completed" in line, timeout=30)
    # The end cue is still playing; its last pulse starts within the cue's length.
    end_cue = quick.cues[quick.end_cue]
    time.sleep((sum(end_cue.pattern) + LATENESS_MS) / 1000)
    bangle.sync()
    found = real_events(bangle.bluetooth)
    assert bangle.errors() == []
    start = next(e for e in found if e.kind == "session_started").at_ms
    moved = clock_at - start
    real = timeline(
        [
            replace(e, at_ms=e.at_ms - CLOCK_JUMP_MS) if e.at_ms - start > moved else e
            for e in found
        ],
        [_offset(p, start, moved) for p in bangle.pulses],
    )
    return real, moved


def _offset(p: Pulse, start: float, moved: float) -> tuple[int, int, float]:
    on = p.on_ms - start
    if on > moved:
        on -= CLOCK_JUMP_MS
    return (round(on), round(p.off_ms - p.on_ms), round(p.strength, 3))


async def _stand_in(storage: Path, program: TimerProgram, inputs: Inputs) -> Timeline:
    """The same session on the stand-in, each input at the moment the real one took effect."""
    async with EspruinoVM(storage) as vm:
        await send_all(vm, plan_upload(None, program.content_hash, program_data(program), MTU))
        messages(vm)
        t0 = await vm.now()
        await send(vm, start_command())

        async def until(offset: int) -> None:
            await vm.advance(t0 + offset - await vm.now())

        # A short press acts on release, a long one a second after the press.
        for release in (inputs.pause, inputs.resume):
            await until(release - 150)
            await vm.set_button(True)
            await until(release)
            await vm.set_button(False)
        await until(inputs.clock)
        wall = (await vm.state()).wall_ms + CLOCK_JUMP_MS
        when = datetime.fromtimestamp(wall / 1000, tz=UTC)
        await send_all(vm, clock_commands(when, ZoneInfo("Asia/Kolkata")))
        await until(inputs.skip - 1000)
        await vm.set_button(True)
        await until(inputs.skip + 300)
        await vm.set_button(False)
        await until(program.total_ms + 3000)
        found = [m for m in messages(vm) if isinstance(m, Event)]
        start = next(e for e in found if e.kind == "session_started").at_ms
        moved = inputs.clock
        events = [
            replace(e, at_ms=e.at_ms - CLOCK_JUMP_MS) if e.at_ms - start > moved else e
            for e in found
        ]
        pulses = [
            (b.t_on_ms - t0, b.t_off_ms - b.t_on_ms, round(b.strength, 3))
            for b in await vm.buzzes()
        ]
        assert (await vm.state()).errors == ()
        return timeline(events, pulses)


def _presses(reps: int) -> TimerProgram:
    """A program of ``2 * reps + 1`` steps: a prepare step, then holds and releases."""
    text = QUICK_ROUTINE.split("[[exercises]]")[0] + (
        '[[exercises]]\nid = "press"\nname = "Press"\n'
        f"hold = {{ seconds = 1 }}\nrelease = {{ seconds = 1 }}\nreps = {reps}\n"
    )
    return compile_routine(parse_routine(text), CompileOptions(countdown_seconds=0))


class TestMemory:
    @pytest.mark.slow
    def test_largest_allowed_program_runs_in_half_the_watch(self, bangle: RealEspruino) -> None:
        program = _presses((MAX_STEPS - 1) // 2)
        assert len(program.steps) in (MAX_STEPS - 1, MAX_STEPS)  # an odd count of steps
        before = bangle.evaluate("process.memory().usage")
        assert isinstance(before, int)
        install(bangle, program)
        bangle.send(start_command())
        bangle.wait_bt(lambda line: b"session_started" in line)
        total = bangle.evaluate("process.memory().total")
        used = bangle.evaluate("process.memory().usage")
        assert isinstance(total, int) and isinstance(used, int)
        assert total == 12_000  # the watch's own variable count
        assert used - before <= total // 2, f"runner and session use {used - before} variables"
        assert bangle.errors() == []

    @pytest.mark.slow
    def test_program_that_runs_out_of_memory_is_not_committed(
        self, bangle: RealEspruino, quick: TimerProgram
    ) -> None:
        install(bangle, quick)
        pointer = bangle.evaluate(f"require('Storage').read({json.dumps(POINTER_FILE)})")
        too_big = encode_program(_presses(450))
        bangle.send_all(data_commands(too_big, MTU))
        bangle.wait(lambda: next((e for e in bangle.errors() if "OUT OF MEMORY" in e), None))
        bangle.sync()
        assert bangle.evaluate(f"require('Storage').read({json.dumps(POINTER_FILE)})") == pointer
        assert bangle.evaluate(f"!!require('Storage').read({json.dumps(BOOT_FILE)})") is True

    @pytest.mark.slow
    def test_runtime_that_fails_to_load_is_not_booted_again(self, bangle: RealEspruino) -> None:
        bangle.send_all(upload_commands("(function(){throw new Error('broken');})()\n", MTU))
        bangle.wait(lambda: next((e for e in bangle.errors() if "broken" in e), None))
        bangle.sync()
        assert bangle.evaluate(f"require('Storage').read({json.dumps(BOOT_FILE)})") is None


class TestAppLoader:
    def test_installed_from_the_app_folder_then_synced_with_data_only(
        self, bangle: RealEspruino
    ) -> None:
        """Storage as the App Loader leaves it, then what the companion sends, then the app."""
        meta = json.loads(app_files()["metadata.json"])
        files = app_files()
        for entry in meta["storage"]:
            content = files[entry["url"]].decode("ascii")
            value = content if entry.get("evaluate") else json.dumps(content)
            bangle.send(
                f"\x10require('Storage').write({json.dumps(entry['name'])},{value})\n".encode()
            )
        # What the bootloader does at every app start: run the *.boot.js files.
        bangle.send(f"\x10eval(require('Storage').read({json.dumps(BOOT_FILE)}))\n".encode())
        bangle.send(b'\x10GB({"t":"wearsync","c":"id"})\n')
        empty = parse_line(bangle.wait_bt(lambda line: b'"k":"id"' in line))
        assert isinstance(empty, Identity) and empty.runner_version == RUNNER_VERSION
        assert empty.program_hash == ""

        program = compile_routine(load_routine("foot-care"))
        data = program_data(program)
        (upload,) = plan_uploads(empty, program.content_hash, data, MTU)
        assert upload.what == "program"
        bangle.send_all(upload.lines)
        ident = parse_line(bangle.wait_bt(lambda line: b'"k":"id"' in line))
        assert isinstance(ident, Identity) and ident.program_hash == program.content_hash

        assert bangle.evaluate("typeof require('Storage').read('wearsync.img')") == "string"
        bangle.send(b"\x10eval(require('Storage').read('wearsync.settings.js'))(function(){})\n")
        bangle.send(b"\x10eval(require('Storage').read('wearsync.app.js'))\n")
        bangle.sync()
        bangle.set_button(True)
        time.sleep(0.2)  # a press the port's 1 ms polling and the 25 ms debounce both see
        bangle.set_button(False)  # the app starts the routine on release
        bangle.wait_bt(lambda line: b"session_started" in line)
        assert bangle.errors() == []


@pytest.mark.slow
def test_session_carries_on_after_an_app_change(bangle: RealEspruino, quick: TimerProgram) -> None:
    install(bangle, quick)
    bangle.send(start_command())
    bangle.wait_bt(lambda line: b'"step":2' in line and b"step_started" in line)
    bangle.send(b"\x10load()\n")  # the wearer went back to the clock face
    bangle.sync()
    # What the next app's start does: the stubs again (load() cleared them), then the boot
    # files, as the bootloader runs them.
    bangle.install_stubs()
    bangle.send(f"\x10eval(require('Storage').read({json.dumps(BOOT_FILE)}))\n".encode())
    bangle.wait_bt(lambda line: b"session_completed" in line, timeout=30)
    found = real_events(bangle.bluetooth)
    assert [e.kind for e in found if e.kind.startswith("session")] == [
        "session_started",
        "session_completed",
    ]
    assert len({e.boot for e in found}) == 1
    assert [e.step for e in found if e.kind == "step_started"] == [s.index for s in quick.steps]
    assert bangle.errors() == []
