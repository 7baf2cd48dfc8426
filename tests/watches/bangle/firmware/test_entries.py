"""Entries and reminders on Espruino's own interpreter (``BANGLEJS2_LINUX``), in real time.

Short on purpose (seconds each): the stand-in tests play a week on a virtual clock; these
check the same bytes on the real interpreter where it matters: the reminder armed again by
the boot file after the wearer left the app for the clock (``load()`` clears the JavaScript
state), ``E.setTimeZone`` as the local time, an entry started by the companion and from the
menu with BTN1, and the memory the foot routine takes with its plan.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import pytest

from tests.watches.bangle.firmware.conftest import needs_espruino
from tests.watches.bangle.firmware.harness import RealEspruino
from wearsync.routine import CompileOptions, Routine, compile_routine, load_routine, parse_routine
from wearsync.routine.occurrences import occurrences
from wearsync.watches.bangle.codec import (
    BOOT_FILE,
    Event,
    Identity,
    clock_commands,
    parse_line,
    plan_uploads,
    program_data,
    start_command,
)
from wearsync.watches.bangle.plan import BanglePlan, bangle_plan

pytestmark = needs_espruino

MTU: Final = 131
LATENESS_MS: Final = 150
FIRST_DAY: Final = date(2025, 1, 6)
#: A routine of a few seconds whose first exercise is done twice a day: entry 1.
DAILY_ROUTINE: Final = """
format = 1
name = "daily"
title = "Daily"
prepare_seconds = 1
transition_seconds = 1
[schedule]
every_days = { min = 2, max = 2 }
times = ["18:00"]
daily_times = ["08:00", "13:00"]
timezone = "Asia/Kolkata"
[[exercises]]
id = "press"
name = "Press"
hold = { seconds = 1 }
release = { seconds = 1 }
reps = 1
times_per_day = 2
[[exercises]]
id = "walk"
name = "Walk"
work = { seconds = 1 }
reps = 1
"""


def install(watch: RealEspruino, routine: Routine, data: str, program_hash: str) -> Identity:
    """The upload lines of ``data`` (runtime, then program); the identity at the end."""
    answer = None
    for upload in plan_uploads(None, program_hash, data, MTU):
        watch.send_all(upload.lines)
        watch.wait_bt(lambda line: b'"k":"crc"' in line)
        answer = parse_line(watch.wait_bt(lambda line: b'"k":"id"' in line or b'"k":"err"' in line))
    assert isinstance(answer, Identity), answer
    return answer


def leave_for_the_clock(watch: RealEspruino) -> None:
    """The wearer goes back to the clock face: ``load()`` clears the JavaScript state (the
    time zone with it); the next app's start does what Bangle.js' bootloader does, which the
    Linux build lacks: the time zone from ``setting.json``, then the boot files (the stubs
    go first: load() cleared them too)."""
    watch.send(b"\x10load()\n")
    watch.sync()
    assert watch.evaluate("new Date().getTimezoneOffset()") == 0
    watch.install_stubs()
    watch.send(b"\x10E.setTimeZone((require('Storage').readJSON('setting.json',1)||{}).timezone)\n")
    watch.send(f"\x10eval(require('Storage').read({json.dumps(BOOT_FILE)}))\n".encode())
    watch.sync()


def real_events(lines: list[bytes]) -> list[Event]:
    return [m for m in map(parse_line, lines) if isinstance(m, Event)]


@pytest.fixture(scope="module")
def daily() -> tuple[Routine, str, str, BanglePlan]:
    routine = parse_routine(DAILY_ROUTINE)
    program = compile_routine(routine, CompileOptions(countdown_seconds=0))
    plan = bangle_plan(routine, program, FIRST_DAY)
    return routine, program_data(program, plan), program.content_hash, plan


def test_reminder_fires_after_the_wearer_left_the_app(
    bangle: RealEspruino, daily: tuple[Routine, str, str, BanglePlan]
) -> None:
    """The watch's clock two seconds before 08:00 in Kolkata (UTC+5:30) on the first day; the
    wearer leaves for the clock; at 08:00 local the reminder plays and is recorded."""
    routine, data, program_hash, plan = daily
    # Every Bangle.js has its settings file; clock_commands keeps the zone in it.
    bangle.send(b"\x10require('Storage').writeJSON('setting.json',{timezone:0})\n")
    install(bangle, routine, data, program_hash)
    due = occurrences(
        routine,
        first_day=FIRST_DAY,
        start=datetime(2025, 1, 6, tzinfo=UTC) - timedelta(hours=6),
        end=datetime(2025, 1, 7, tzinfo=UTC),
    )[0]
    assert (due.entry, due.local.hour) == ("press", 8)
    bangle.send_all(clock_commands(due.at - timedelta(seconds=2), routine.schedule.zone))
    assert bangle.evaluate("new Date().getTimezoneOffset()") == -330
    leave_for_the_clock(bangle)
    bangle.pulses.clear()
    line = bangle.wait_bt(lambda line: b'"reminder"' in line, timeout=10)
    event = parse_line(line)
    assert isinstance(event, Event)
    assert (event.kind, event.entry, event.step) == ("reminder", 1, plan.entries[0].steps.start)
    assert abs(event.at_ms - due.at.timestamp() * 1000) <= LATENESS_MS
    time.sleep(1.5)  # the reminder cue: 500 ms, 250 ms off, 500 ms
    bangle.sync()
    cue = routine.cue("reminder")
    assert [round(p.off_ms - p.on_ms) for p in bangle.pulses] == [cue.pattern[0], cue.pattern[2]]
    assert abs(bangle.pulses[0].on_ms - due.at.timestamp() * 1000) <= LATENESS_MS
    assert bangle.errors() == []


def test_an_entry_from_the_companion_and_from_the_menu(
    bangle: RealEspruino, daily: tuple[Routine, str, str, BanglePlan]
) -> None:
    routine, data, program_hash, plan = daily
    install(bangle, routine, data, program_hash)
    steps = list(plan.entries[0].steps)
    bangle.bt_lines()
    bangle.send(start_command(req=4, entry=1))
    bangle.wait_bt(lambda line: b"session_completed" in line, timeout=15)
    found = real_events(bangle.bluetooth)
    assert {e.entry for e in found} == {1}
    assert [e.step for e in found if e.kind == "step_started"] == steps
    assert {e.exercise for e in found} == {0}
    # From the menu: the app shows it; a press starts the item shown (the routine), held for
    # a second it shows the next (Press), then a press starts that one.
    done = len(bangle.bluetooth)
    bangle.send(b"\x10WS.menu(0)\n")
    bangle.sync()
    bangle.set_button(True)
    time.sleep(1.3)
    bangle.set_button(False)
    time.sleep(0.2)
    bangle.set_button(True)
    time.sleep(0.2)
    bangle.set_button(False)
    bangle.wait_bt(lambda line: b"session_completed" in line, timeout=15)
    again = real_events(bangle.bluetooth[done:])
    assert {e.entry for e in again} == {1}
    assert [e.step for e in again if e.kind == "step_started"] == steps
    assert bangle.errors() == []


@pytest.mark.slow
def test_foot_routine_with_its_plan_runs_an_entry_in_half_the_watch(bangle: RealEspruino) -> None:
    routine = load_routine("foot-care")
    program = compile_routine(routine)
    plan = bangle_plan(routine, program, FIRST_DAY)
    before = bangle.evaluate("process.memory().usage")
    assert isinstance(before, int)
    install(bangle, routine, program_data(program, plan), program.content_hash)
    bangle.send_all(clock_commands(datetime(2025, 1, 6, 7, tzinfo=UTC), ZoneInfo("Europe/London")))
    bangle.send(start_command(entry=2))
    bangle.wait_bt(lambda line: b"session_started" in line)
    total = bangle.evaluate("process.memory().total")
    used = bangle.evaluate("process.memory().usage")
    assert isinstance(total, int) and isinstance(used, int)
    assert used - before <= total // 2, f"runner, plan and session use {used - before} variables"
    assert bangle.errors() == []
