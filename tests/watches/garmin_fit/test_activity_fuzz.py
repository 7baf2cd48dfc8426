"""Damaged activity files only ever raise the importer's own typed error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from garmin_fit_sdk import CrcCalculator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.watches.garmin_fit.watch import activity_file, wearer_laps
from wearsync.routine import Routine, TimerProgram
from wearsync.sync.driver import program_key
from wearsync.watches.garmin_fit.activity import GarminFileError, KnownWorkout, read_activity
from wearsync.watches.garmin_fit.codec import EncodedWorkout

START = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def good(workout: EncodedWorkout, program: TimerProgram) -> bytes:
    laps = wearer_laps(workout, program, stop_at_step=12)
    return activity_file(laps, start=START, workout=workout.identity)


@pytest.fixture(scope="module")
def known(program: TimerProgram, routine: Routine) -> list[KnownWorkout]:
    return [KnownWorkout(program, routine, program_key(program))]


def with_fresh_crcs(data: bytearray) -> bytes:
    """``data`` with its header and file CRCs recomputed, so damage reaches the records."""
    if data[0] == 14:
        data[12:14] = CrcCalculator.calculate_crc(data, 0, 12).to_bytes(2, "little")
    data[-2:] = CrcCalculator.calculate_crc(data, 0, len(data) - 2).to_bytes(2, "little")
    return bytes(data)


def test_every_truncation_is_a_typed_error(good: bytes, known: list[KnownWorkout]) -> None:
    read_activity(good, source="whole.fit", device="d", workouts=known)  # the whole file reads
    for length in range(len(good)):
        with pytest.raises(GarminFileError):
            read_activity(good[:length], source="cut.fit", device="d", workouts=known)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_flipped_bytes_read_or_raise_a_typed_error(
    good: bytes, known: list[KnownWorkout], data: st.DataObject
) -> None:
    damaged = bytearray(good)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        at = data.draw(st.integers(min_value=0, max_value=len(good) - 1))
        damaged[at] = data.draw(st.integers(min_value=0, max_value=255))
    try:
        read_activity(bytes(damaged), source="flip.fit", device="d", workouts=known)
    except GarminFileError as exc:
        assert "\n" not in str(exc)


@pytest.mark.slow
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_damaged_records_under_a_valid_crc_read_or_raise_a_typed_error(
    good: bytes, known: list[KnownWorkout], data: st.DataObject
) -> None:
    damaged = bytearray(good)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        at = data.draw(st.integers(min_value=14, max_value=len(good) - 3))
        damaged[at] = data.draw(st.integers(min_value=0, max_value=255))
    try:
        read_activity(with_fresh_crcs(damaged), source="flip.fit", device="d", workouts=known)
    except GarminFileError as exc:
        assert "\n" not in str(exc)
