"""A Garmin watch's side of a workout, for the tests: the activity files it writes.

The files are built to the FIT profile with Garmin's own Python encoder (``garmin_fit_sdk``,
a dev-only dependency), not with fit-tool, so the importer is tested against an independent
writer. What a watch writes after a workout (see ../shared/notes/garmin-fit.md): File Id type
activity, a Training File naming the workout's File Id, one Lap per step run with its
``wkt_step_index``, optionally Set messages (strength), then Session and Activity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from garmin_fit_sdk import Encoder, Profile

from wearsync.routine.compiler import TimerProgram
from wearsync.watches.garmin_fit.codec import EncodedWorkout, FileIdentity

MESG = Profile["mesg_num"]
WATCH_SERIAL = 3_456_789_012
WATCH_PRODUCT = 3113  # any Garmin product number: the importer does not look at it


@dataclass(frozen=True)
class Lap:
    """One lap: the workout step it ran (None: after the workout), and for how long."""

    step_index: int | None
    seconds: float


def wearer_laps(
    workout: EncodedWorkout,
    program: TimerProgram,
    *,
    lap_through: Iterable[int] = (),
    stop_at_step: int | None = None,
    stop_after_s: float = 1.0,
) -> list[Lap]:
    """The laps of a wearer who follows the workout.

    Args:
        lap_through: exercises whose every step the wearer cuts short with the lap button.
        stop_at_step: the program step during which the wearer stops and saves.
        stop_after_s: how long into that step.
    """
    cut = set(lap_through)
    laps = []
    for step, position in zip(program.steps, workout.plan.positions, strict=True):
        if stop_at_step is not None and step.index == stop_at_step:
            laps.append(Lap(position, stop_after_s))
            break
        # A lap press a moment into the step (FIT lap times are in milliseconds).
        planned = step.duration_ms / 1000
        seconds = min(0.8, planned / 5) if step.exercise in cut else planned
        laps.append(Lap(position, seconds))
    return laps


def activity_file(
    laps: list[Lap],
    *,
    start: datetime,
    workout: FileIdentity | None,
    sets_only: bool = False,
    file_type: str = "activity",
    time_created: datetime | None = None,
    wkt_name: str | None = None,
    num_valid_steps: int | None = None,
    bare_reference: bool = False,
    pauses: dict[int, float] | None = None,
) -> bytes:
    """An activity file of ``laps`` started at ``start``, following ``workout``.

    Args:
        sets_only: write the steps as Set messages and one Lap without a step index, as a
            strength activity may.
        workout: the File Id of the workout followed (a Training File message), or None.
        wkt_name, num_valid_steps: write a Workout message with these.
        bare_reference: the Training File gives only the serial number and time created.
        pauses: seconds the wearer pauses the timer before the lap of each number.
    """
    created = time_created or start
    enc = Encoder()
    enc.write_mesg(
        {
            "mesg_num": MESG["FILE_ID"],
            "type": file_type,
            "manufacturer": "garmin",
            "product": WATCH_PRODUCT,
            "serial_number": WATCH_SERIAL,
            "time_created": created,
        }
    )
    if workout is not None:
        reference = {
            "mesg_num": MESG["TRAINING_FILE"],
            "timestamp": created,
            "type": "workout",
            "serial_number": workout.serial_number,
            "time_created": workout.created_at,
        }
        if not bare_reference:
            reference.update(manufacturer=workout.manufacturer, product=workout.product)
        enc.write_mesg(reference)
    if wkt_name is not None:
        enc.write_mesg(
            {
                "mesg_num": MESG["WORKOUT"],
                "wkt_name": wkt_name,
                "sport": "training",
                "sub_sport": "strength_training",
                "num_valid_steps": num_valid_steps,
            }
        )

    def timer(event_type: str, moment: datetime) -> None:
        enc.write_mesg(
            {
                "mesg_num": MESG["EVENT"],
                "timestamp": moment,
                "event": "timer",
                "event_type": event_type,
            }
        )

    timer("start", start)
    at = start
    for number, lap in enumerate(laps):
        if pauses and number in pauses:
            timer("stop_all", at)
            at += timedelta(seconds=pauses[number])
            timer("start", at)
        end = at + timedelta(seconds=lap.seconds)
        if sets_only:
            set_mesg = {
                "mesg_num": MESG["SET"],
                "timestamp": end,
                "start_time": at,
                "duration": lap.seconds,
                "set_type": "active",
                "message_index": number,
            }
            if lap.step_index is not None:
                set_mesg["wkt_step_index"] = lap.step_index
            enc.write_mesg(set_mesg)
        else:
            lap_mesg = {
                "mesg_num": MESG["LAP"],
                "message_index": number,
                "timestamp": end,
                "start_time": at,
                "total_elapsed_time": lap.seconds,
                "total_timer_time": lap.seconds,
            }
            if lap.step_index is not None:
                lap_mesg["wkt_step_index"] = lap.step_index
            enc.write_mesg(lap_mesg)
        at = end
    total = (at - start).total_seconds()
    timer_total = sum(lap.seconds for lap in laps)
    timer("stop_all", at)
    if sets_only:
        enc.write_mesg(
            {
                "mesg_num": MESG["LAP"],
                "message_index": 0,
                "timestamp": at,
                "start_time": start,
                "total_elapsed_time": total,
                "total_timer_time": total,
            }
        )
    enc.write_mesg(
        {
            "mesg_num": MESG["SESSION"],
            "message_index": 0,
            "timestamp": at,
            "start_time": start,
            "total_elapsed_time": total,
            "total_timer_time": timer_total,
            "sport": "training",
            "sub_sport": "strength_training",
            "first_lap_index": 0,
            "num_laps": 1 if sets_only else len(laps),
        }
    )
    enc.write_mesg(
        {
            "mesg_num": MESG["ACTIVITY"],
            "timestamp": at,
            "total_timer_time": timer_total,
            "num_sessions": 1,
            "type": "manual",
        }
    )
    return bytes(enc.close())
