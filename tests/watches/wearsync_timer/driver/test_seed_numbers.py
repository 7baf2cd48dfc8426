"""Every number of the article, end to end: in the program the simulated watch decoded from
what was pushed to it, in the occurrences the schedule plans, and in the adherence plan.

The article (shared/seed/foot-exercises.txt): toe presses, hold for a count of three, 10 reps,
three times a day; toe walking 20 seconds, rest 10-15 seconds, 6 rounds, 2 times a day; ankle
circles 10 counts clockwise then counterclockwise, both legs; resisted flexion hold for a count
of 5, 10 repetitions; toe pencil pickups hold 10 seconds, 5 times for each foot; about 20
minutes, every 2-3 days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.driver.conftest import found
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.routine import Direction, Side, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.routine.occurrences import ROUTINE_ENTRY, Plan, occurrences
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.history import summarize
from wearsync.watches.wearsync_timer.codec import WireProgram, decode_program, expand
from wearsync.watches.wearsync_timer.sim.watch import ENTRY_FEATURES, SimWatch

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")

Check = Callable[[WireProgram], bool]


def ex(program: WireProgram, name: str):  # type: ignore[no-untyped-def]
    return next(e for e in program.exercises if e.name == name)


def slots(program: WireProgram, name: str) -> int:
    assert program.plan is not None
    index = next(i for i, e in enumerate(program.exercises) if e.name == name)
    entry = next(e for e in program.plan.entries if e.exercise == index)
    return len(entry.slots)


PROGRAM_NUMBERS: dict[str, Check] = {
    "toe presses: hold for a count of three": lambda p: ex(p, "Toe Presses").effort.ms == 3000,
    "toe presses: 10 reps": lambda p: ex(p, "Toe Presses").reps == 10,
    "toe presses: three times a day": lambda p: slots(p, "Toe Presses") == 3,
    "toe walking: walk 20 seconds": lambda p: ex(p, "Toe Walking").effort.ms == 20_000,
    "toe walking: rest 10-15 seconds": lambda p: 10_000 <= ex(p, "Toe Walking").after.ms <= 15_000,
    "toe walking: 6 rounds": lambda p: ex(p, "Toe Walking").reps == 6,
    "toe walking: 2 times a day": lambda p: slots(p, "Toe Walking") == 2,
    "ankle circles: 10 counts each way": lambda p: (
        ex(p, "Ankle Circles").effort.ms == 10_000
        and ex(p, "Ankle Circles").directions == (Direction.CLOCKWISE, Direction.COUNTERCLOCKWISE)
    ),
    "ankle circles: both legs": lambda p: ex(p, "Ankle Circles").sides == (Side.LEFT, Side.RIGHT),
    "resisted flexion: hold for a count of 5": lambda p: (
        ex(p, "Resisted Flexion").effort.ms == 5000
    ),
    "resisted flexion: 10 repetitions": lambda p: ex(p, "Resisted Flexion").reps == 10,
    "pencil pickups: hold 10 seconds": lambda p: ex(p, "Toe Pencil Pickups").effort.ms == 10_000,
    "pencil pickups: 5 times for each foot": lambda p: (
        ex(p, "Toe Pencil Pickups").reps == 5
        and ex(p, "Toe Pencil Pickups").sides == (Side.LEFT, Side.RIGHT)
    ),
    "about 20 minutes or less": lambda p: sum(s.duration_ms for s in expand(p)) <= 20 * 60_000,
    "every 2-3 days": lambda p: p.plan is not None and p.plan.every_days == 2,
}


@pytest.fixture
async def on_the_watch(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> WireProgram:
    """The program as the simulated watch decoded it after a sync."""
    watch = await SimWatch.start(
        link, flash_dir=tmp_path / "f", clock=ManualClock(), features=ENTRY_FEATURES, utc=utc_now()
    )
    try:
        target = await found(link, profiles, watch)
        await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link)
        assert watch.committed_program is not None
        assert watch._wire is not None  # what the watch itself decoded from the commit
        assert watch._wire == decode_program(watch.committed_program)
        return watch._wire
    finally:
        await watch.close()


@pytest.mark.parametrize("number", list(PROGRAM_NUMBERS))
async def test_number_in_the_program_on_the_watch(on_the_watch: WireProgram, number: str) -> None:
    assert PROGRAM_NUMBERS[number](on_the_watch), number


FIRST = datetime(2026, 3, 2).date()


def month() -> list[tuple[str, datetime]]:
    start = datetime.combine(FIRST, time(0), tzinfo=ROUTINE.schedule.zone)
    return [
        (o.entry, o.local)
        for o in occurrences(ROUTINE, first_day=FIRST, start=start, end=start + timedelta(30))
    ]


def test_occurrences_three_presses_and_two_walks_a_day_routine_every_2_days() -> None:
    per_day: Counter[tuple[object, str]] = Counter((local.date(), e) for e, local in month())
    for n in range(30):
        day = FIRST + timedelta(days=n)
        routine_day = n % 2 == 0
        # the routine (which has both exercises) stands for one repeat on its days
        assert per_day[(day, ROUTINE_ENTRY)] == (1 if routine_day else 0)
        assert per_day[(day, "toe-presses")] + routine_day == 3
        assert per_day[(day, "toe-walking")] + routine_day == 2


def test_adherence_plans_the_article_for_30_days() -> None:
    start = datetime.combine(FIRST, time(0), tzinfo=ROUTINE.schedule.zone)
    report = summarize(
        [], [Plan(ROUTINE)], first_day=FIRST, now=start + timedelta(days=30, seconds=-1)
    )
    planned = {e.entry: e.planned for e in report.entries}
    assert planned == {ROUTINE_ENTRY: 15, "toe-presses": 3 * 30 - 15, "toe-walking": 2 * 30 - 15}
