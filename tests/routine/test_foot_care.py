"""The built-in foot routine says what the article says, number for number."""

from __future__ import annotations

from pathlib import Path

import pytest

from wearsync.routine import Direction, Routine, Side, StepKind, compile_routine, load_routine

ARTICLE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "foot-exercises.txt"


@pytest.fixture(scope="module")
def routine() -> Routine:
    return load_routine("foot-care")


def test_exercises_in_article_order(routine: Routine) -> None:
    assert [ex.name for ex in routine.exercises] == [
        "Toe Presses",
        "Toe Walking",
        "Ankle Circles",
        "Resisted Flexion",
        "Toe Pencil Pickups",
    ]


def test_every_number_of_the_article(routine: Routine) -> None:
    """Each number the article gives, next to the sentence that gives it."""
    presses, walking, circles, flexion, pickups = routine.exercises
    # "grip the floor with your toes and hold for a count of three"
    assert presses.hold.counts == 3
    # "perform a set of 10 reps three times a day"
    assert (presses.sets, presses.reps, presses.times_per_day) == (1, 10, 3)
    # "walk forward for 20 seconds"
    assert walking.work.seconds == 20
    # "rest for 10-15 seconds": kept as a range
    assert (walking.rest.range.min, walking.rest.range.max) == (10, 15)
    # "Repeat this exercise 5 more times": the first walk plus five
    assert walking.reps == 1 + 5
    # "This exercise should be performed 2 times a day"
    assert walking.times_per_day == 2
    # "Rotate ... clockwise for 10 counts. Then ... counterclockwise for 10 counts"
    assert circles.work.counts == 10
    assert circles.directions == (Direction.CLOCKWISE, Direction.COUNTERCLOCKWISE)
    # "Switch legs and repeat"
    assert circles.sides == (Side.LEFT, Side.RIGHT)
    # "Flex your foot backward and hold for a count of 5 ... 10 repetitions"
    assert flexion.hold.counts == 5
    assert flexion.reps == 10
    assert "exercise band" in flexion.equipment
    # "hold for 10 seconds, then drop it. Repeat this movement 5 times for each foot"
    assert pickups.hold.seconds == 10
    assert pickups.reps == 5
    assert pickups.sides == (Side.LEFT, Side.RIGHT)
    # "every 2-3 days"
    assert (routine.schedule.every_days.min, routine.schedule.every_days.max) == (2, 3)
    # "only take about 20 minutes to complete"
    assert routine.schedule.session_minutes == 20
    # Counts become seconds at the documented default of one count per second.
    assert routine.count_seconds == 1.0


@pytest.mark.skipif(not ARTICLE.exists(), reason="shared/ seed not beside the checkout")
def test_article_still_says_so() -> None:
    """Guard against the fixture drifting from the source text."""
    text = ARTICLE.read_text()
    for phrase in (
        "hold for a count of three",
        "set of 10 reps three times a day",
        "walk forward for 20 seconds",
        "rest for 10-15 seconds",
        "Repeat this exercise 5 more times",
        "2 times a day",
        "clockwise for 10 counts",
        "hold for a count of 5",
        "10 repetitions",
        "hold for 10 seconds",
        "5 times for each foot",
        "every 2-3 days",
        "20 minutes",
    ):
        assert phrase in text, phrase


def test_compiled_program_fits_the_budget(routine: Routine) -> None:
    program = compile_routine(routine)
    assert program.total_ms <= 20 * 60 * 1000
    # 10 holds of 3 s for toe presses, each followed by a release.
    presses = program.steps_of(0)
    holds = [s for s in presses if s.kind is StepKind.HOLD]
    assert [s.duration_ms for s in holds] == [3000] * 10
    # Toe walking rests take the range maximum by default: 15 s, five of them between six walks.
    walking = program.steps_of(1)
    rests = [s.duration_ms for s in walking if s.kind is StepKind.REST]
    works = [s.duration_ms for s in walking if s.kind is StepKind.WORK]
    assert works == [20000] * 6 and rests == [15000] * 5
    # Ankle circles: clockwise then counterclockwise, on the left leg then the right.
    circles = [(s.side, s.direction) for s in program.steps_of(2) if s.kind is StepKind.WORK]
    assert circles == [
        (Side.LEFT, Direction.CLOCKWISE),
        (Side.LEFT, Direction.COUNTERCLOCKWISE),
        (Side.RIGHT, Direction.CLOCKWISE),
        (Side.RIGHT, Direction.COUNTERCLOCKWISE),
    ]
    assert any(s.kind is StepKind.SWITCH_SIDE for s in program.steps_of(2))
