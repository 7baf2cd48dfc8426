"""Entries and reminders on the simulated Bangle.js, on its virtual clock (docs/bangle.md,
"Entries and reminders"; the rules of docs/protocol.md §5.8/§5.9).

The watch is installed through the real upload lines at 07:00 on the schedule's first day
(a Monday in January: London is on UTC), then left alone: every reminder it plays comes from
the plan in its program data and its own timers, and is compared with
:func:`wearsync.routine.occurrences.occurrences`, the generator the calendar and adherence use.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest

from tests.watches.bangle.espruino.conftest import (
    FIRST_DAY,
    MTU,
    events,
    messages,
    needs_node,
    send,
    send_all,
)
from wearsync.routine import Routine, TimerProgram
from wearsync.routine.occurrences import ROUTINE_ENTRY, occurrences
from wearsync.watches.bangle.app_loader import app_files
from wearsync.watches.bangle.codec import (
    REMINDER_FILE,
    Event,
    Reply,
    WatchError,
    clock_commands,
    plan_upload,
    program_data,
    start_command,
)
from wearsync.watches.bangle.espruino import Buzz, EspruinoVM
from wearsync.watches.bangle.plan import BanglePlan, bangle_plan

pytestmark = needs_node

#: 07:00 on the first day, before anything is planned that day (London is on UTC in January).
START: Final = datetime.combine(FIRST_DAY, datetime.min.time(), UTC) + timedelta(hours=7)
DAY_MS: Final = 24 * 3600 * 1000
HOUR_MS: Final = 3600 * 1000
#: The runner returns to the clock (load()) this long after a session's end cue.
AFTER_END_MS: Final = 7000
#: A reminder's screen goes back to the clock after a minute untouched.
MENU_TIMEOUT_MS: Final = 60_000


@pytest.fixture
async def watch(
    tmp_path: Path, routine: Routine, program: TimerProgram, source: str
) -> AsyncIterator[EspruinoVM]:
    """A watch installed by the real upload lines at :data:`START`, its clock and zone set."""
    async with EspruinoVM(tmp_path / "storage.json", wall_start=START) as vm:
        await send_all(vm, plan_upload(None, program.content_hash, source, MTU))
        await send_all(vm, clock_commands(START, routine.schedule.zone))
        messages(vm)
        yield vm


def entry_id(plan: BanglePlan, number: int) -> str:
    return ROUTINE_ENTRY if number == 0 else plan.entries[number - 1].id


def reminders(found: list[Event], plan: BanglePlan) -> list[tuple[datetime, str]]:
    return [(e.at, entry_id(plan, e.entry)) for e in found if e.kind == "reminder"]


def planned(routine: Routine, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    return [
        (o.at, o.entry) for o in occurrences(routine, first_day=FIRST_DAY, start=start, end=end)
    ]


async def mono_of(vm: EspruinoVM, at: datetime) -> int:
    """The watch's virtual ms at wall time ``at``."""
    state = await vm.state()
    return round(at.timestamp() * 1000) - state.wall_ms + state.now_ms


async def advance_to(vm: EspruinoVM, at: datetime) -> None:
    await vm.advance(await mono_of(vm, at) - await vm.now())


def reminder_pulses(routine: Routine, t: int) -> list[Buzz]:
    cue = routine.cue("reminder")
    out = []
    for i in range(0, len(cue.pattern), 2):
        out.append(Buzz(t, t + cue.pattern[i], cue.strength / 100))
        t += cue.pattern[i] + (cue.pattern[i + 1] if i + 1 < len(cue.pattern) else 0)
    return out


def entry_pulses(program: TimerProgram, steps: range, t0: int) -> list[Buzz]:
    """Every pulse of an entry that runs ``steps``, started at virtual ``t0``."""
    out: list[Buzz] = []
    origin = program.steps[steps.start].start_ms

    def play(name: str, at: int) -> None:
        cue = program.cues[name]
        for i in range(0, len(cue.pattern), 2):
            out.append(Buzz(at, at + cue.pattern[i], cue.strength / 100))
            at += cue.pattern[i] + (cue.pattern[i + 1] if i + 1 < len(cue.pattern) else 0)

    for index in steps:
        step = program.steps[index]
        play(step.cue, t0 + step.start_ms - origin)
        if step.countdown_cue is not None:
            for k in range(step.countdown_ms // 1000, 0, -1):
                play(step.countdown_cue, t0 + step.end_ms - origin - k * 1000)
    play(program.end_cue, t0 + program.steps[steps.stop - 1].end_ms - origin)
    return sorted(out)


async def no_js_errors(vm: EspruinoVM) -> None:
    assert (await vm.state()).errors == ()


class TestReminders:
    async def test_a_reminder_at_each_planned_time_of_a_week(
        self, watch: EspruinoVM, routine: Routine, plan: BanglePlan
    ) -> None:
        t0 = await watch.now()
        await watch.advance(7 * DAY_MS)
        found = events(messages(watch))
        got = reminders(found, plan)
        want = planned(routine, START, START + timedelta(days=7))
        # 4 routine days; toe presses 3 a day but 2 on routine days (17); toe walking 2 a day
        # but 1 on routine days (10)
        assert len(want) == 4 + 17 + 10
        assert sorted(got) == want
        assert [at for at, _ in got] == sorted(at for at, _ in got)
        # On routine days 18:00 is the routine alone: toe presses are not reminded twice.
        routine_times = [at for at, entry in want if entry == ROUTINE_ENTRY]
        assert routine_times and all(
            [entry for at, entry in got if at == when] == [ROUTINE_ENTRY] for when in routine_times
        )
        # Each reminder names the entry's first step and exercise.
        for event in (e for e in found if e.kind == "reminder"):
            first = plan.entries[event.entry - 1].steps.start if event.entry else 0
            assert (event.step, event.duration_ms) == (first, 0)
            assert event.exercise == (plan.entries[event.entry - 1].exercise if event.entry else 0)
        # One reminder cue per planned instant, however many entries are due then.
        instants = sorted({at for at, _ in want})
        offset = t0 - round(START.timestamp() * 1000)
        expected = [
            pulse
            for at in instants
            for pulse in reminder_pulses(routine, round(at.timestamp() * 1000) + offset)
        ]
        assert await watch.buzzes() == expected
        # Each reminder's screen went back to the clock by itself, and the next was armed
        # again by the runtime the boot file loaded: the reminders survive leaving the app.
        assert watch.boots.count("load") == len(instants)
        await no_js_errors(watch)

    async def test_the_screen_shows_the_entry_and_one_press_starts_it(
        self, watch: EspruinoVM, plan: BanglePlan, program: TimerProgram
    ) -> None:
        await advance_to(watch, START + timedelta(hours=1))
        assert await watch.screen() == ["Reminder", "Toe Presses", "Press: start", "Hold: next"]
        await watch.press_button(200)
        found = events(messages(watch))
        started = [e for e in found if e.kind == "session_started"]
        assert len(started) == 1 and started[0].entry == 1
        assert started[0].step == plan.entries[0].steps.start
        assert (await watch.screen())[0] == program.exercises[0].name
        await no_js_errors(watch)

    async def test_a_session_done_early_cancels_the_next_reminder(
        self, watch: EspruinoVM, routine: Routine, program: TimerProgram, plan: BanglePlan
    ) -> None:
        await send(watch, start_command(req=1, entry=1))  # toe presses at 07:00
        assert Reply("start", 1) in messages(watch)
        presses = plan.entries[0].steps
        length = program.steps[presses.stop - 1].end_ms - program.steps[presses.start].start_ms
        await watch.advance(length + AFTER_END_MS)
        assert watch.boots[-1] == "load"  # back to the clock: the JavaScript started again
        await advance_to(watch, START + timedelta(hours=17))
        got = reminders(events(messages(watch)), plan)
        want = planned(routine, START, START + timedelta(hours=17))
        early = (START + timedelta(hours=1), "toe-presses")
        assert early in want
        # 08:00's toe presses were done at 07:00; 13:00's still come (none done since 08:00),
        # and the other entries are untouched.
        assert got == [o for o in want if o != early]
        assert REMINDER_FILE in await watch.storage()
        await no_js_errors(watch)

    async def test_no_reminder_during_a_session(
        self, watch: EspruinoVM, routine: Routine, program: TimerProgram, plan: BanglePlan
    ) -> None:
        await advance_to(watch, START + timedelta(hours=5, minutes=55))
        await send(watch, start_command(req=2))  # the whole routine, over 13:00
        replies = messages(watch)
        assert Reply("start", 2) in replies
        await watch.advance(program.total_ms + AFTER_END_MS)
        await advance_to(watch, START + timedelta(hours=17))
        got = reminders(events(replies + messages(watch)), plan)
        # 08:00's two are before it; 13:00 falls in the session; the 18:00 routine was done.
        assert got == planned(routine, START, START + timedelta(hours=2))
        one = await mono_of(watch, START + timedelta(hours=6))
        assert not set(reminder_pulses(routine, one)) & set(await watch.buzzes())
        await no_js_errors(watch)

    async def test_reminders_survive_a_power_cycle(
        self, watch: EspruinoVM, routine: Routine, plan: BanglePlan
    ) -> None:
        """The boot files run at power-on too: the runtime arms the next reminder again."""
        await advance_to(watch, START + timedelta(minutes=30))
        await watch.reset()
        await advance_to(watch, START + timedelta(hours=2))
        got = reminders(events(messages(watch)), plan)
        assert got == planned(routine, START, START + timedelta(hours=2))
        assert watch.boots[:2] == ["power-on", "reset"]
        await no_js_errors(watch)

    async def test_across_a_dst_change_the_old_offset_holds_until_the_next_sync(
        self, tmp_path: Path, routine: Routine, program: TimerProgram
    ) -> None:
        """London springs forward on 2025-03-30. Synced on the 27th (UTC+0) the watch reminds
        at 18:00 UTC, which is 19:00 BST after the change: an hour late; a sync on the 31st
        gives it UTC+1 and the reminders are on time again."""
        first = datetime(2025, 3, 27).date()
        start = datetime(2025, 3, 27, 7, tzinfo=UTC)
        plan = bangle_plan(routine, program, first)
        data = program_data(program, plan)
        async with EspruinoVM(tmp_path / "dst.json", wall_start=start) as vm:
            await send_all(vm, plan_upload(None, program.content_hash, data, MTU))
            await send_all(vm, clock_commands(start, routine.schedule.zone))
            synced = datetime(2025, 3, 31, 6, 30, tzinfo=UTC)
            await advance_to(vm, synced)
            before = [(e.at, entry_id(plan, e.entry)) for e in events(messages(vm), "reminder")]
            await send_all(vm, clock_commands(synced, routine.schedule.zone))
            assert (await vm.state()).time_zone == 1
            await advance_to(vm, datetime(2025, 4, 2, 6, 30, tzinfo=UTC))
            after = [(e.at, entry_id(plan, e.entry)) for e in events(messages(vm), "reminder")]
            await no_js_errors(vm)
        change = datetime(2025, 3, 30, 1, tzinfo=UTC)
        want = [
            (o.at, o.entry) for o in occurrences(routine, first_day=first, start=start, end=synced)
        ]
        late = [(at if at < change else at + timedelta(hours=1), e) for at, e in want]
        assert any(at > change for at, _ in want)
        assert sorted(before) == [x for x in late if x[0] < synced]
        assert sorted(after) == [
            (o.at, o.entry)
            for o in occurrences(
                routine, first_day=first, start=synced, end=datetime(2025, 4, 2, 6, 30, tzinfo=UTC)
            )
        ]


async def open_menu(vm: EspruinoVM) -> None:
    """What the launcher does: run the app (from its App Loader file)."""
    app = app_files()["app.js"].decode()
    await send(vm, f"\x10require('Storage').write('wearsync.app.js',{json.dumps(app)})\n".encode())
    await send(vm, b"\x10eval(require('Storage').read('wearsync.app.js'))\n")


class TestEntries:
    @pytest.mark.parametrize("number", [1, 2])
    async def test_each_entry_from_the_watch_buttons(
        self, watch: EspruinoVM, program: TimerProgram, plan: BanglePlan, number: int
    ) -> None:
        await open_menu(watch)
        assert await watch.screen() == ["1/3", "foot-care", "Press: start", "Hold: next"]
        for _ in range(number):
            await watch.press_button(1100)  # held: the next entry
        entry = plan.entries[number - 1]
        assert (await watch.screen())[:2] == [
            f"{number + 1}/3",
            program.exercises[entry.exercise].name,
        ]
        t0 = await watch.now()
        await watch.press_button(200)  # pressed: start it
        t0 += 200
        steps = entry.steps
        length = program.steps[steps.stop - 1].end_ms - program.steps[steps.start].start_ms
        await watch.advance(length + AFTER_END_MS)
        found = [e for e in events(messages(watch)) if e.kind != "reminder"]
        assert {e.entry for e in found} == {number}
        assert {e.exercise for e in found} == {entry.exercise}
        assert [e.step for e in found if e.kind == "step_started"] == list(steps)
        assert [e.kind for e in found if e.kind.startswith(("session", "exercise"))] == [
            "session_started",
            "exercise_completed",
            "session_completed",
        ]
        assert found[0].step == steps.start
        assert found[-1].duration_ms == length
        assert [b for b in await watch.buzzes() if b.t_on_ms >= t0] == entry_pulses(
            program, steps, t0
        )
        await no_js_errors(watch)

    async def test_each_entry_from_the_companion(
        self, watch: EspruinoVM, program: TimerProgram, plan: BanglePlan
    ) -> None:
        for number, entry in enumerate(plan.entries, start=1):
            t0 = await watch.now()
            await send(watch, start_command(req=number, entry=number))
            replies = messages(watch)
            assert Reply("start", number) in replies
            steps = entry.steps
            length = program.steps[steps.stop - 1].end_ms - program.steps[steps.start].start_ms
            await watch.advance(length + AFTER_END_MS)
            replies += messages(watch)
            found = [e for e in events(replies) if e.kind != "reminder"]
            assert {e.entry for e in found} == {number}
            assert [e.step for e in found if e.kind == "step_started"] == list(steps)
            assert found[-1].kind == "session_completed"
            assert [b for b in await watch.buzzes() if b.t_on_ms >= t0] == entry_pulses(
                program, steps, t0
            )
        await send(watch, start_command(req=9, entry=len(plan.entries) + 1))
        assert WatchError("start", "entry", 9) in messages(watch)
        await no_js_errors(watch)

    async def test_skip_in_an_entry_completes_the_session(
        self, watch: EspruinoVM, plan: BanglePlan
    ) -> None:
        await send(watch, start_command(entry=2))
        await watch.advance(20_000)
        await watch.press_button(1000)
        found = events(messages(watch))
        assert [e.kind for e in found[-2:]] == ["exercise_skipped", "session_completed"]
        assert {e.entry for e in found} == {2}
        await no_js_errors(watch)

    async def test_an_entry_carries_on_after_an_app_change(
        self, watch: EspruinoVM, program: TimerProgram, plan: BanglePlan
    ) -> None:
        await send(watch, start_command(entry=1))
        await watch.advance(10_000)
        await send(watch, b"\x10load()\n")
        entry = plan.entries[0]
        length = program.steps[entry.steps.stop - 1].end_ms
        await watch.advance(length + AFTER_END_MS)
        found = [e for e in events(messages(watch)) if e.kind != "reminder"]
        assert {e.entry for e in found} == {1}
        assert len({e.boot for e in found}) == 1
        assert [e.step for e in found if e.kind == "step_started"] == list(entry.steps)
        assert found[-1].kind == "session_completed"
        await no_js_errors(watch)
