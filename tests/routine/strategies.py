"""Hypothesis strategies that build valid routines from the model classes."""

from __future__ import annotations

from datetime import time

from hypothesis import strategies as st

from wearsync.routine.model import Direction, Exercise, Range, Routine, Schedule, Side, Span

seconds = st.integers(min_value=1, max_value=120).map(float)


@st.composite
def spans(draw: st.DrawFn) -> Span:
    form = draw(st.sampled_from(["seconds", "counts", "range"]))
    if form == "seconds":
        return Span(seconds=draw(seconds))
    if form == "counts":
        return Span(counts=draw(st.integers(min_value=1, max_value=30)))
    low = draw(seconds)
    return Span(range=Range(min=low, max=low + draw(st.integers(min_value=0, max_value=30))))


@st.composite
def exercises(draw: st.DrawFn, ident: str) -> Exercise:
    is_hold = draw(st.booleans())
    sides = draw(st.sampled_from([(Side.BOTH,), (Side.LEFT, Side.RIGHT), (Side.RIGHT, Side.LEFT)]))
    directions = draw(
        st.sampled_from([(Direction.NONE,), (Direction.CLOCKWISE, Direction.COUNTERCLOCKWISE)])
    )
    after = draw(st.one_of(st.none(), spans()))
    return Exercise(
        id=ident,
        name=ident.replace("-", " ").title(),
        hold=draw(spans()) if is_hold else None,
        release=after if is_hold else None,
        work=None if is_hold else draw(spans()),
        rest=None if is_hold else after,
        reps=draw(st.integers(min_value=1, max_value=12)),
        sets=draw(st.integers(min_value=1, max_value=3)),
        rest_between_sets=draw(st.one_of(st.none(), spans())),
        sides=sides,
        directions=directions,
        times_per_day=draw(st.integers(min_value=1, max_value=3)),
    )


@st.composite
def routines(draw: st.DrawFn, max_exercises: int = 5) -> Routine:
    count = draw(st.integers(min_value=1, max_value=max_exercises))
    return Routine(
        name="generated",
        title="Generated routine",
        count_seconds=draw(st.sampled_from([0.5, 1.0, 1.5])),
        transition_seconds=draw(st.integers(min_value=0, max_value=30)),
        prepare_seconds=draw(st.integers(min_value=0, max_value=10)),
        switch_side_seconds=draw(st.integers(min_value=0, max_value=10)),
        schedule=Schedule(every_days=Range(min=2, max=3), times=(time(18, 0),)),
        exercises=tuple(draw(exercises(f"ex-{i}")) for i in range(count)),
    )
