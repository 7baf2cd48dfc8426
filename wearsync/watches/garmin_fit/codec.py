"""A :class:`TimerProgram` as the bytes of a FIT workout file (pure, no I/O).

The file holds, in order (FIT profile message and field names):

- **File Id** (``file_id``): ``type`` workout (5), ``manufacturer`` development (255),
  ``product`` :data:`PRODUCT`, ``serial_number`` and ``time_created`` derived from the program's
  content hash (:func:`workout_identity`), so an unchanged program gives identical bytes and a
  changed one a new identity;
- **Workout** (``workout``): ``wkt_name`` (the routine's title), ``sport`` training with
  ``sub_sport`` strength_training (holds and reps are isometric strength work, and a strength
  activity records Set messages), ``num_valid_steps`` (every Workout Step, repeats included,
  as Garmin's own workout samples count them);
- one **Workout Step** (``workout_step``) per planned step (:mod:`.workout`).

Written with fit-tool (BSD-3-Clause). Its typed setters scale a value by the sub-field that the
step's ``duration_type`` selects (``duration_time`` is in seconds, scale 1000), so
``duration_value`` and ``target_value`` are written as raw encoded values: milliseconds, the
index to jump back to, the repeat count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from wearsync.routine.compiler import TimerProgram
from wearsync.routine.model import Routine
from wearsync.watches.garmin_fit.workout import (
    STEP_LIMIT,
    RepeatStep,
    TimeStep,
    WorkoutPlan,
    WorkoutWarning,
    fit_string,
    plan_workout,
)

if TYPE_CHECKING:
    from fit_tool.data_message import DataMessage

#: FIT's epoch: date_time values count seconds from 1989-12-31 00:00 UTC.
FIT_EPOCH: Final = datetime(1989, 12, 31, tzinfo=UTC)
#: FIT ``manufacturer`` development: for software that has no manufacturer id of its own.
MANUFACTURER_DEVELOPMENT: Final = 255
#: FIT ``product`` of the files wearsync writes (any value; 0 would read as "unknown").
PRODUCT: Final = 0x5753  # "WS"
#: date_time values below this are seconds since the device powered on, not absolute times.
_ABSOLUTE_FROM: Final = 0x10000000
#: ``time_created`` lies in the ten years from 2020-01-01: plausible to a watch's file list.
_TIME_BASE: Final = int((datetime(2020, 1, 1, tzinfo=UTC) - FIT_EPOCH).total_seconds())
_TIME_SPAN: Final = 10 * 365 * 24 * 3600

# FIT profile field numbers written raw (see the module docstring).
_DURATION_VALUE: Final = 2
_TARGET_VALUE: Final = 4


@dataclass(frozen=True)
class FileIdentity:
    """What identifies a FIT file: its File Id fields (and a Training File's reference)."""

    manufacturer: int
    product: int
    serial_number: int
    time_created: int
    """FIT date_time: seconds since :data:`FIT_EPOCH`."""

    @property
    def key(self) -> tuple[int, int]:
        """``(serial_number, time_created)``: what a Training File must repeat to name this file.

        Manufacturer and product are left out: a watch may write them differently (or not at
        all) in the reference, and the 64 bits of hash in these two fields identify a workout.
        """
        return (self.serial_number, self.time_created)

    @property
    def created_at(self) -> datetime:
        """``time_created`` as an aware UTC datetime."""
        return FIT_EPOCH + timedelta(seconds=self.time_created)


@dataclass(frozen=True)
class EncodedWorkout:
    """A workout file and what went into it."""

    data: bytes
    identity: FileIdentity
    plan: WorkoutPlan

    @property
    def warnings(self) -> tuple[WorkoutWarning, ...]:
        """Warnings about the workout (e.g. more steps than watches are assumed to take)."""
        return self.plan.warnings


def workout_identity(program: TimerProgram) -> FileIdentity:
    """The File Id of ``program``'s workout file, derived from its content hash.

    ``serial_number`` (uint32z, so never 0) is the hash's first 32 bits, ``time_created`` a
    time within ten years of 2020 picked by its next 32 bits: together 64 bits of the hash,
    the same for the same program.
    """
    digest = bytes.fromhex(program.content_hash)
    serial = int.from_bytes(digest[0:4], "big") or 1
    created = _TIME_BASE + int.from_bytes(digest[4:8], "big") % _TIME_SPAN
    assert created >= _ABSOLUTE_FROM
    return FileIdentity(MANUFACTURER_DEVELOPMENT, PRODUCT, serial, created)


def encode_workout(
    program: TimerProgram, routine: Routine, *, step_limit: int = STEP_LIMIT
) -> EncodedWorkout:
    """Encode ``program`` (compiled from ``routine``) as a FIT workout file.

    Args:
        program: the compiled program.
        routine: the routine it was compiled from: its title names the workout, its exercises'
            instructions become the steps' ``notes``.
        step_limit: warn in the result when the workout needs more steps than this.

    Raises:
        KeyError: the routine has no exercise of one of the program's exercise ids.
    """
    from fit_tool.fit_file_builder import FitFileBuilder
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.messages.workout_message import WorkoutMessage
    from fit_tool.profile.profile_type import FileType, Sport, SubSport

    plan = plan_workout(program, routine, step_limit=step_limit)
    identity = workout_identity(program)

    file_id = FileIdMessage()
    file_id.type = FileType.WORKOUT
    file_id.manufacturer = identity.manufacturer
    file_id.product = identity.product
    file_id.serial_number = identity.serial_number
    # fit-tool takes date_time values as Unix milliseconds.
    file_id.time_created = round(identity.created_at.timestamp() * 1000)

    workout = WorkoutMessage()
    workout.workout_name = fit_string(routine.title)
    workout.sport = Sport.TRAINING
    workout.sub_sport = SubSport.STRENGTH_TRAINING
    workout.num_valid_steps = len(plan.steps)

    builder = FitFileBuilder(auto_define=True)
    builder.add(file_id)
    builder.add(workout)
    for index, step in enumerate(plan.steps):
        builder.add(_step_message(index, step))
    return EncodedWorkout(data=bytes(builder.build().to_bytes()), identity=identity, plan=plan)


def _step_message(index: int, step: TimeStep | RepeatStep) -> DataMessage:
    from fit_tool.profile.messages.workout_step_message import WorkoutStepMessage
    from fit_tool.profile.profile_type import Intensity, WorkoutStepDuration, WorkoutStepTarget

    message = WorkoutStepMessage()
    message.message_index = index
    if isinstance(step, RepeatStep):
        message.duration_type = WorkoutStepDuration.REPEAT_UNTIL_STEPS_CMPLT
        _raw(message, _DURATION_VALUE, step.back_to)
        _raw(message, _TARGET_VALUE, step.count)
        return message
    message.workout_step_name = step.name
    message.duration_type = WorkoutStepDuration.TIME
    _raw(message, _DURATION_VALUE, step.duration_ms)
    # No target: the step ends on time alone (target_type open, as Garmin's samples write it).
    message.target_type = WorkoutStepTarget.OPEN
    message.intensity = Intensity[step.intensity.name]
    if step.notes:
        message.notes = step.notes
    return message


def _raw(message: DataMessage, field_id: int, value: int) -> None:
    field = message.get_field(field_id)
    assert field is not None, field_id
    field.set_encoded_value(0, value)
