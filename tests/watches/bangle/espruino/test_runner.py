"""The generated runner, installed and run on the simulated Bangle.js on a virtual clock.

Times are virtual milliseconds of the simulated watch; the runner computes every cue from the
session's start, so on the virtual clock each one must land exactly where the program says.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.watches.bangle.espruino.conftest import (
    MTU,
    events,
    identify,
    messages,
    needs_node,
    send,
    send_all,
)
from wearsync.routine import (
    CompileOptions,
    RangePick,
    TimerProgram,
    compile_routine,
    load_routine,
)
from wearsync.watches.bangle.app_loader import app_files
from wearsync.watches.bangle.codec import (
    BOOT_FILE,
    DATA_FILE,
    EVENTS_FILE,
    HELLO_PROBE,
    POINTER_FILE,
    RUNNER_FILE,
    Ack,
    DumpDone,
    Event,
    Identity,
    ProgrammableOffError,
    Reply,
    VerifyResult,
    WatchError,
    ack_commands,
    check_verify,
    clock_commands,
    data_commands,
    dump_command,
    expect_hello,
    plan_upload,
    plan_uploads,
    program_data,
    runtime_source,
    start_command,
    stop_command,
    upload_commands,
)
from wearsync.watches.bangle.espruino import DEFAULT_WALL_START, Buzz, EspruinoVM

pytestmark = needs_node

WALL0 = round(DEFAULT_WALL_START.timestamp() * 1000)
#: After the end cue the runner waits this long, then load()s the clock (a new boot id).
AFTER_END_MS = 5200 + 1000


def planned_buzzes(program: TimerProgram, t0: int) -> list[Buzz]:
    """Every motor pulse the program asks for, when the session starts at ``t0``."""
    out: list[Buzz] = []

    def play(name: str, at: int) -> None:
        cue = program.cues[name]
        for i in range(0, len(cue.pattern), 2):
            out.append(Buzz(at, at + cue.pattern[i], cue.strength / 100))
            at += cue.pattern[i] + (cue.pattern[i + 1] if i + 1 < len(cue.pattern) else 0)

    for step in program.steps:
        play(step.cue, t0 + step.start_ms)
        if step.countdown_cue is not None:
            for k in range(step.countdown_ms // 1000, 0, -1):
                play(step.countdown_cue, t0 + step.end_ms - k * 1000)
    play(program.end_cue, t0 + program.total_ms)
    return sorted(out)


def shifted(buzzes: list[Buzz], after: int, by: int) -> list[Buzz]:
    return [
        b._replace(t_on_ms=b.t_on_ms + by, t_off_ms=b.t_off_ms + by) if b.t_on_ms > after else b
        for b in buzzes
    ]


async def start_session(vm: EspruinoVM) -> tuple[int, list[Event]]:
    """Start a session now; its start time and the events that started it."""
    t0 = await vm.now()
    await send(vm, start_command(req=1))
    replies = messages(vm)
    assert Reply("start", 1) in replies
    return t0, events(replies)


async def no_js_errors(vm: EspruinoVM, *expected: str) -> None:
    assert (await vm.state()).errors == expected


def test_generated_runtime_is_valid_javascript(tmp_path: Path, node: str) -> None:
    path = tmp_path / "runtime.js"
    path.write_text(runtime_source())
    result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def node() -> str:
    found = shutil.which("node")
    assert found is not None
    return found


class TestInstall:
    async def test_upload_verifies_and_identifies(
        self, vm: EspruinoVM, program: TimerProgram, source: str
    ) -> None:
        assert await identify(vm) is None  # nothing installed yet
        await send(vm, HELLO_PROBE)
        hello = expect_hello(messages(vm))
        assert hello.firmware == "2v25"

        await send_all(vm, plan_upload(None, program.content_hash, source, MTU))
        replies = messages(vm)
        runtime, data = (m for m in replies if isinstance(m, VerifyResult))
        assert (runtime.ok, runtime.file, data.ok, data.file) == (
            True,
            RUNNER_FILE,
            True,
            DATA_FILE,
        )
        check_verify(runtime, runtime_source())
        check_verify(data, source)
        empty, ident = (m for m in replies if isinstance(m, Identity))
        assert (empty.program_hash, empty.routine) == ("", "")  # the runtime, no program yet
        assert ident.program_hash == program.content_hash
        assert (ident.routine, ident.state, ident.unacked, ident.seq) == ("foot-care", "idle", 0, 0)
        assert ident.now_ms == WALL0 + await vm.now()

        stored = await vm.storage()
        assert stored[RUNNER_FILE] == runtime_source().encode()
        assert stored[stored[POINTER_FILE].decode()] == source.encode()
        assert BOOT_FILE in stored
        # Only the identify sent before the runner existed failed, as it does on a real watch.
        await no_js_errors(vm, "ReferenceError: GB is not defined")

    async def test_same_program_is_not_uploaded_again(
        self, installed: EspruinoVM, program: TimerProgram, source: str
    ) -> None:
        ident = await identify(installed)
        assert ident is not None
        assert plan_upload(ident, program.content_hash, source, MTU) == []

    async def test_runner_survives_a_reset(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        before = await identify(installed)
        await installed.reset()
        after = await identify(installed)
        assert before is not None and after is not None
        assert after.program_hash == program.content_hash
        assert after.boot != before.boot  # every boot of the runner gets a new id
        assert installed.boots == ["power-on", "reset"]
        await no_js_errors(installed)

    async def test_another_program_replaces_the_runner(self, installed: EspruinoVM) -> None:
        one = compile_routine(load_routine("foot-care"), CompileOptions(exercises=("toe-walking",)))
        ident = await identify(installed)
        lines = plan_upload(ident, one.content_hash, program_data(one), 247)
        assert lines
        await send_all(installed, lines, 247)
        after = [m for m in messages(installed) if isinstance(m, Identity)]
        assert after[-1].program_hash == one.content_hash
        await no_js_errors(installed)

    async def test_interrupted_runtime_upload_does_not_run_at_boot(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        lines = upload_commands(runtime_source(), MTU)
        await send_all(installed, lines[: len(lines) // 2])
        await installed.reset()
        assert await identify(installed) is None
        assert not any("SyntaxError" in e for e in (await installed.state()).errors)
        await send_all(installed, lines)
        ident = await identify(installed)  # the program was kept: only the runtime was new
        assert ident is not None and ident.program_hash == program.content_hash

    async def test_interrupted_program_upload_keeps_the_program_running(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        one = compile_routine(load_routine("foot-care"), CompileOptions(exercises=("toe-walking",)))
        lines = data_commands(program_data(one), MTU)
        await send_all(installed, lines[: len(lines) // 2])
        await installed.reset()
        ident = await identify(installed)
        assert ident is not None and ident.program_hash == program.content_hash
        await send_all(installed, lines)
        ident = await identify(installed)
        assert ident is not None and ident.program_hash == one.content_hash
        await no_js_errors(installed)

    async def test_program_change_uploads_only_the_data(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        one = compile_routine(load_routine("foot-care"), CompileOptions(exercises=("toe-walking",)))
        ident = await identify(installed)
        uploads = plan_uploads(ident, one.content_hash, program_data(one), MTU)
        assert [u.what for u in uploads] == ["program"]
        assert sum(map(len, uploads[0].lines)) < 1024
        before = (await installed.storage())[POINTER_FILE]
        await send_all(installed, uploads[0].lines)
        stored = await installed.storage()
        assert stored[POINTER_FILE] != before and before.decode() not in stored  # old slot gone

    async def test_damaged_upload_is_reported_and_not_loaded(self, vm: EspruinoVM) -> None:
        lines = upload_commands(runtime_source(), MTU)
        await send_all(vm, [lines[0], *lines[2:]])  # the second piece never arrived
        replies = messages(vm)
        verify = next(m for m in replies if isinstance(m, VerifyResult))
        assert not verify.ok
        assert WatchError("install", "crc") in replies
        assert await identify(vm) is None

    async def test_damaged_program_is_refused_and_the_old_one_kept(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        one = compile_routine(load_routine("foot-care"), CompileOptions(exercises=("toe-walking",)))
        lines = data_commands(program_data(one), MTU)
        await send_all(installed, [lines[0], *lines[2:]])
        replies = messages(installed)
        assert not next(m for m in replies if isinstance(m, VerifyResult)).ok
        assert WatchError("install", "crc") in replies
        ident = await identify(installed)
        assert ident is not None and ident.program_hash == program.content_hash


class TestProgrammableOff:
    async def test_probe_is_not_answered_and_nothing_is_written(
        self, vm: EspruinoVM, program: TimerProgram, source: str
    ) -> None:
        await vm.set_programmable(False)
        await send(vm, HELLO_PROBE)
        await vm.advance(1000)  # the companion's short wait
        with pytest.raises(ProgrammableOffError) as caught:
            expect_hello(messages(vm))
        assert "Settings > Bluetooth" in (caught.value.hint or "")

        await send_all(vm, plan_upload(None, program.content_hash, source, MTU))
        await vm.advance(1000)
        assert messages(vm) == []
        assert RUNNER_FILE not in await vm.storage()

    async def test_installed_runner_still_answers_commands(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        """Commands are GB({...}) lines, which the watch passes on even with Programmable off."""
        await installed.set_programmable(False)
        assert (await installed.state()).programmable is False
        ident = await identify(installed)
        assert ident is not None and ident.program_hash == program.content_hash
        _, _ = await start_session(installed)
        await installed.advance(program.steps[1].start_ms)
        found = events(messages(installed))
        assert [e.kind for e in found] == ["step_started"]
        assert found[0].step == 1


class TestSession:
    async def test_every_cue_on_time_and_every_exercise_once(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        t0, found = await start_session(installed)
        await installed.advance(program.total_ms + AFTER_END_MS)
        assert await installed.buzzes() == planned_buzzes(program, t0)

        found += events(messages(installed))
        completed = [e for e in found if e.kind == "exercise_completed"]
        assert [e.exercise for e in completed] == list(range(len(program.exercises)))
        for event, ex in zip(completed, program.exercises, strict=True):
            last = program.steps[ex.first_step + ex.step_count - 1]
            assert event.at_ms == WALL0 + t0 + last.end_ms
            assert event.duration_ms == ex.active_ms
        started = [e for e in found if e.kind == "step_started"]
        assert [e.step for e in started] == [s.index for s in program.steps]
        assert [e.at_ms - WALL0 - t0 for e in started] == [s.start_ms for s in program.steps]
        assert [e.kind for e in found if e.kind.startswith("session")] == [
            "session_started",
            "session_completed",
        ]
        assert found[-1].duration_ms == program.total_ms
        assert [e.seq for e in found] == list(range(1, len(found) + 1))
        assert {e.program for e in found} == {program.content_hash[:12]}
        assert not any(e.replayed for e in found)
        assert installed.boots[-1] == "load"  # back to the clock after the end cue
        await no_js_errors(installed)

    @pytest.mark.parametrize(
        "options",
        [
            CompileOptions(countdown_seconds=0),
            CompileOptions(count_seconds=2.5, countdown_seconds=5, rest_pick=RangePick.MIN),
            CompileOptions(exercises=("ankle-circles", "toe-pencil-pickups"), release_seconds=0.7),
        ],
        ids=["no-countdown", "slow-counts", "two-exercises"],
    )
    async def test_other_programs_run_on_time_too(
        self, vm: EspruinoVM, options: CompileOptions
    ) -> None:
        other = compile_routine(load_routine("foot-care"), options)
        await send_all(vm, plan_upload(None, other.content_hash, program_data(other), 247), 247)
        t0, found = await start_session(vm)
        await vm.advance(other.total_ms + AFTER_END_MS)
        assert await vm.buzzes() == planned_buzzes(other, t0)
        found += events(messages(vm))
        done = [e.exercise for e in found if e.kind == "exercise_completed"]
        assert done == list(range(len(other.exercises)))
        await no_js_errors(vm)

    async def test_screen_shows_exercise_step_and_countdown(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        _, _ = await start_session(installed)
        hold = program.steps[3]  # Toe Presses, rep 2, hold of 3 s
        await installed.advance(hold.start_ms + 1000)
        assert await installed.screen() == ["Toe Presses", "Hold", "Set 1 Rep 2", "2"]
        walk = program.steps[22]
        await installed.advance(walk.start_ms - hold.start_ms - 1000)
        assert await installed.screen() == ["Toe Walking", "Work", "Set 1 Rep 1", "20"]
        circle = program.steps[program.exercises[2].first_step]
        await installed.advance(circle.start_ms - walk.start_ms)
        assert await installed.screen() == [
            "Ankle Circles",
            f"Work {circle.direction.value}",
            f"Set 1 Rep 1 {circle.side.value}",
            str(circle.duration_ms // 1000),
        ]

    async def test_session_carries_on_after_an_app_change(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        t0, found = await start_session(installed)
        await installed.advance(30_000)
        await send(installed, b"\x10load()\n")  # the wearer went back to the clock face
        assert installed.boots[-1] == "load"
        await installed.advance(program.total_ms - 30_000 + AFTER_END_MS)
        assert await installed.buzzes() == planned_buzzes(program, t0)
        found += events(messages(installed))
        assert [e.kind for e in found if e.kind.startswith("session")] == [
            "session_started",
            "session_completed",
        ]
        assert {e.boot for e in found} == {found[0].boot}  # one session for the companion
        assert [e.step for e in found if e.kind == "step_started"] == [
            s.index for s in program.steps
        ]
        assert installed.boots[-1] == "load"  # the clock stayed; nothing reloaded it
        await no_js_errors(installed)

    async def test_opening_the_app_takes_the_session_back(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        app = app_files()["app.js"].decode()
        await send(
            installed,
            f"\x10require('Storage').write('wearsync.app.js',{json.dumps(app)})\n".encode(),
        )
        await start_session(installed)
        await installed.advance(10_000)
        await send(installed, b"\x10load()\n")
        await installed.advance(2_000)
        assert await installed.screen() == []  # the session does not draw over the clock
        await send(installed, b"\x10eval(require('Storage').read('wearsync.app.js'))\n")
        assert (await installed.screen())[0] == program.exercises[0].name
        await installed.press_button(200)
        assert [e.kind for e in events(messages(installed))][-1] == "paused"
        await no_js_errors(installed)

    async def test_stop_aborts(self, installed: EspruinoVM, program: TimerProgram) -> None:
        t0, _ = await start_session(installed)
        await installed.advance(10_000)
        await send(installed, stop_command(req=2))
        replies = messages(installed)
        assert Reply("stop", 2) in replies
        aborted = events(replies, "session_aborted")
        assert len(aborted) == 1 and aborted[0].duration_ms == 10_000
        await installed.advance(60_000)
        assert all(b.t_on_ms <= t0 + 10_000 for b in await installed.buzzes())
        await send(installed, stop_command())
        assert WatchError("stop", "idle") in messages(installed)

    async def test_start_while_running_is_refused(self, installed: EspruinoVM) -> None:
        _, _ = await start_session(installed)
        await send(installed, start_command(req=5))
        assert WatchError("start", "busy", 5) in messages(installed)


class TestButton:
    async def test_short_press_pauses_and_resumes_with_the_time_left(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        t0, _ = await start_session(installed)
        walk = program.steps[22]
        await installed.advance(walk.start_ms + 5000)
        await installed.press_button(200)
        t_pause = t0 + walk.start_ms + 5200
        paused = events(messages(installed))
        assert [(e.kind, e.step, e.duration_ms) for e in paused[-1:]] == [("paused", 22, 0)]
        assert (await installed.screen())[-1] == "Paused"

        await installed.advance(30_000)
        assert events(messages(installed)) == []  # the clock-driven steps stopped
        await installed.press_button(999)  # still a short press
        t_resume = t_pause + 30_000 + 999
        resumed = events(messages(installed))
        assert [(e.kind, e.duration_ms) for e in resumed] == [("resumed", 30_999)]

        await installed.advance(program.total_ms + AFTER_END_MS)
        pause = t_resume - t_pause
        plan = shifted(planned_buzzes(program, t0), t_pause, pause)
        assert await installed.buzzes() == plan
        assert not [b for b in plan if t_pause < b.t_on_ms <= t_resume]
        found = events(messages(installed))
        walking = next(e for e in found if e.kind == "exercise_completed")
        assert walking.exercise == 1
        assert walking.duration_ms == program.exercises[1].active_ms + pause
        assert found[-1].kind == "session_completed"
        assert found[-1].duration_ms == program.total_ms + pause
        await no_js_errors(installed)

    async def test_long_press_skips_the_exercise(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        t0, _ = await start_session(installed)
        walking = program.exercises[1]
        begin = program.steps[walking.first_step].start_ms
        await installed.advance(begin + 40_000)
        await installed.press_button(1000)
        t_skip = t0 + begin + 41_000
        found = events(messages(installed))
        skipped = found[-2]
        assert (skipped.kind, skipped.exercise, skipped.duration_ms) == (
            "exercise_skipped",
            1,
            41_000,
        )
        after = program.steps[walking.first_step + walking.step_count]
        assert (found[-1].kind, found[-1].step) == ("step_started", after.index)
        assert found[-1].at_ms == WALL0 + t_skip
        last = (await installed.buzzes())[-1]
        cue = program.cues[after.cue]
        assert last == Buzz(t_skip, t_skip + cue.pattern[0], cue.strength / 100)

        await installed.advance(program.total_ms)
        rest = events(messages(installed))
        assert [e.exercise for e in rest if e.kind == "exercise_completed"] == [2, 3, 4]
        end = rest[-1]
        assert end.kind == "session_completed"
        assert end.at_ms == WALL0 + t_skip + program.total_ms - after.start_ms
        await no_js_errors(installed)

    async def test_skipping_the_last_exercise_ends_the_session(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        t0, _ = await start_session(installed)
        last = program.exercises[-1]
        await installed.advance(program.steps[last.first_step].start_ms + 2000)
        await installed.press_button(1500)
        t_skip = await installed.now() - 500
        found = events(messages(installed))
        assert [e.kind for e in found[-2:]] == ["exercise_skipped", "session_completed"]
        end_cue = program.cues[program.end_cue]
        assert Buzz(t_skip, t_skip + end_cue.pattern[0], 1) in await installed.buzzes()
        assert t_skip > t0


class TestEventLog:
    async def test_dump_ack_and_reset(self, installed: EspruinoVM, program: TimerProgram) -> None:
        _, live = await start_session(installed)
        await installed.advance(program.total_ms + AFTER_END_MS)
        live += events(messages(installed))
        assert len(live) > 64

        await send(installed, dump_command(64, req=9))
        first = messages(installed)
        assert first[-1] == DumpDone(sent=64, left=len(live) - 64, req=9)
        replayed = events(first)
        assert all(e.replayed for e in replayed)
        assert [(e.boot, e.seq, e.kind) for e in replayed] == [
            (e.boot, e.seq, e.kind) for e in live[:64]
        ]

        await installed.reset()
        ident = await identify(installed)
        assert ident is not None
        assert ident.program_hash == program.content_hash
        assert ident.unacked == len(live)
        assert ident.seq == live[-1].seq

        await send_all(installed, ack_commands(replayed))
        acks = [m for m in messages(installed) if isinstance(m, Ack)]
        assert acks == [Ack(boot=live[0].boot, seq=64, removed=64, left=len(live) - 64)]
        await send(installed, dump_command(64))
        rest = messages(installed)
        assert [e.seq for e in events(rest)] == [e.seq for e in live[64:]]
        assert rest[-1] == DumpDone(sent=len(live) - 64, left=0)

        await send_all(installed, ack_commands(events(rest)))
        assert messages(installed) == [Ack(live[0].boot, live[-1].seq, len(live) - 64, 0)]
        await send(installed, dump_command())
        assert messages(installed) == [DumpDone(sent=0, left=0)]
        assert (await installed.storage()).get(f"{EVENTS_FILE}\x01", b"") == b""

        _, again = await start_session(installed)
        assert again[0].seq == live[-1].seq + 1  # numbering goes on after the log was emptied

    async def test_events_missed_while_disconnected_come_back(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        _, seen = await start_session(installed)
        await installed.advance(20_000)
        seen += events(messages(installed))
        await installed.set_connected(False)
        await installed.advance(program.total_ms + AFTER_END_MS)
        await installed.set_connected(True)
        assert installed.read_lines() == []
        await send(installed, dump_command(1000))
        replayed = events(messages(installed))
        seqs = sorted({e.seq for e in seen} | {e.seq for e in replayed})
        assert seqs == list(range(1, seqs[-1] + 1))
        assert replayed[-1].kind == "session_completed"
        assert sum(e.kind == "exercise_completed" for e in replayed) == len(program.exercises)

    async def test_ack_of_another_boot_removes_nothing(self, installed: EspruinoVM) -> None:
        _, seen = await start_session(installed)
        wrong = Event(seen[0].boot + 1, 99, 0, "paused", 0, 1, 0, "both", 0, 0, "x")
        await send_all(installed, ack_commands([wrong]))
        ack = next(m for m in messages(installed) if isinstance(m, Ack))
        assert (ack.removed, ack.left) == (0, len(seen))


class TestClock:
    async def test_clock_change_mid_session_keeps_cues_on_time(
        self, installed: EspruinoVM, program: TimerProgram
    ) -> None:
        t0, _ = await start_session(installed)
        await installed.advance(60_000)
        wall = (await installed.state()).wall_ms
        jumped = datetime.fromtimestamp((wall + 3_600_000) / 1000, tz=UTC)
        await send_all(installed, clock_commands(jumped, ZoneInfo("Asia/Kolkata")))
        state = await installed.state()
        assert state.wall_ms == wall + 3_600_000
        assert state.time_zone == 5.5

        await installed.advance(program.total_ms + AFTER_END_MS)
        assert await installed.buzzes() == planned_buzzes(program, t0)
        end = events(messages(installed))[-1]
        assert end.kind == "session_completed"
        assert end.at_ms == WALL0 + t0 + program.total_ms + 3_600_000
        assert end.duration_ms == program.total_ms

        await installed.reset()
        assert (await installed.state()).time_zone == 5.5  # kept in setting.json
        await no_js_errors(installed)
