"""A simulated Garmin watch: a folder laid out as the watch's USB drive.

``wearsync sim --watch garmin-fit`` keeps ``<flash>/GARMIN/{NewFiles,Workouts,Activity}``. A
workout copied to ``NewFiles`` is loaded as a watch does at start-up (moved to ``Workouts``),
run step by step at ``speed`` (an ``alert`` line per step, the watch's own step alert), and
saved as an activity file in ``Activity``: File Id type activity, a Training File naming the
workout's File Id, a Lap per step run with its ``wkt_step_index``, timer Events for pauses, a
Session and an Activity message, written with fit-tool like the workout itself.

The wearer script may ``abort=N[:MS]`` (stop and save MS ms into step N) and ``pause=N:D[:MS]``
(pause D ms, MS ms into step N). Step numbers count the steps as the watch runs them (repeats
expanded), which are the program's steps. ``skip`` is refused: a watch has no "skip exercise",
only the lap button, and the simulated wearer does not press it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from wearsync.errors import InputError
from wearsync.records import utc_now
from wearsync.sim.simulated import Emit, SimOptions
from wearsync.sim.wearer import Wearer
from wearsync.watches.garmin_fit.codec import FileIdentity
from wearsync.watches.garmin_fit.folder import (
    ACTIVITY,
    GARMIN,
    NEW_FILES,
    WORKOUTS,
    write_atomically,
)
from wearsync.watches.garmin_fit.workout import ReplayedStep, replay

_POLL_S: Final = 0.1
_FIT_EPOCH_UNIX_S: Final = 631065600
_SERIAL: Final = 3_999_000_001
_PRODUCT: Final = 4_000  # a made-up Garmin product number


@dataclass(frozen=True)
class _Lap:
    step: ReplayedStep
    start: datetime
    timer_ms: int
    pause_ms: int = 0
    pause_after_ms: int = 0


class SimGarmin:
    """The simulated watch (a :class:`~wearsync.sim.simulated.SimulatedWatch`)."""

    def __init__(self, root: Path, *, speed: float, wearer: Wearer, emit: Emit) -> None:
        self.root = root
        self.garmin = root / GARMIN
        for sub in (NEW_FILES, WORKOUTS, ACTIVITY):
            (self.garmin / sub).mkdir(parents=True, exist_ok=True)
        self.speed = speed
        self.wearer = wearer
        self.emit = emit
        self.loaded = 0
        self.activities = 0
        self._last_created: datetime | None = None
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def name(self) -> str:
        """The watch's name."""
        return "Garmin (simulated)"

    @property
    def address(self) -> str:
        """The address ``wearsync sync --device`` takes: the drive's folder."""
        return f"garmin-fit:{self.root.resolve()}"

    def summary(self) -> dict[str, Any]:
        """Workouts loaded and activities saved so far."""
        return {"workouts_loaded": self.loaded, "activities_saved": self.activities}

    async def close(self) -> None:
        """Switch the watch off (a workout under way is not saved)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            for path in sorted((self.garmin / NEW_FILES).glob("*.[fF][iI][tT]")):
                data = path.read_bytes()
                path.replace(self.garmin / WORKOUTS / path.name)
                self.loaded += 1
                identity, steps = _read_workout(data)
                if steps:
                    await self._do(identity, steps)
            await asyncio.sleep(_POLL_S)

    async def _do(self, workout: FileIdentity, steps: list[ReplayedStep]) -> None:
        start = self._created()
        laps: list[_Lap] = []
        at = start
        abort = self.wearer.abort
        pauses = {p.step: p for p in self.wearer.pauses}
        for number, step in enumerate(steps):
            timer_ms = step.duration_ms
            if abort is not None and abort.step == number:
                timer_ms = min(abort.after_ms, step.duration_ms)
            pause = pauses.get(number)
            pause_ms = pause.duration_ms if pause is not None else 0
            after = min(pause.after_ms, timer_ms) if pause is not None else 0
            self.emit(
                {
                    "type": "alert",
                    "watch_time": at.strftime("%H:%M:%S"),
                    "title": step.name,
                    "body": f"{step.duration_ms / 1000:g} s, {step.intensity}",
                }
            )
            await asyncio.sleep((timer_ms + pause_ms) / 1000 / self.speed)
            laps.append(_Lap(step, at, timer_ms, pause_ms, after))
            at += timedelta(milliseconds=timer_ms + pause_ms)
            if abort is not None and abort.step == number:
                break
        name = f"{start:%Y-%m-%d-%H-%M-%S}.fit"
        write_atomically(self.garmin / ACTIVITY / name, _activity(workout, start, laps))
        self.activities += 1
        self.emit(
            {
                "type": "alert",
                "watch_time": at.strftime("%H:%M:%S"),
                "title": "saved",
                "body": f"{GARMIN}/{ACTIVITY}/{name}",
            }
        )

    def _created(self) -> datetime:
        # One activity per second at most: its time_created is its identity.
        now = utc_now().replace(microsecond=0)
        if self._last_created is not None and now <= self._last_created:
            now = self._last_created + timedelta(seconds=1)
        self._last_created = now
        return now


def _read_workout(data: bytes) -> tuple[FileIdentity, list[ReplayedStep]]:
    """The workout's File Id and its steps as the watch runs them; no steps if unreadable."""
    from fit_tool.exceptions import FitError
    from fit_tool.fit_file import FitFile

    try:
        fit = FitFile.from_bytes(data)
        file_id: dict[str, Any] = {}
        steps: list[dict[str, object]] = []
        for record in fit.records:
            message = record.message
            if type(message).__name__ == "DefinitionMessage":
                continue
            values = {f.name: f.get_value() for f in message.fields if f.is_valid()}
            if message.global_id == 0:
                file_id = values
            elif message.global_id == 27:
                steps.append(values)
        identity = FileIdentity(
            manufacturer=int(file_id["manufacturer"]),
            product=int(file_id.get("product") or 0),
            serial_number=int(file_id["serial_number"]),
            time_created=int(file_id["time_created"]) // 1000 - _FIT_EPOCH_UNIX_S,
        )
        return identity, replay(steps)
    except (FitError, ValueError, KeyError, TypeError):
        return FileIdentity(0, 0, 0, 0), []  # a watch ignores a file it cannot load


def _activity(workout: FileIdentity, start: datetime, laps: list[_Lap]) -> bytes:
    from fit_tool.fit_file_builder import FitFileBuilder
    from fit_tool.profile.messages.activity_message import ActivityMessage
    from fit_tool.profile.messages.event_message import EventMessage
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.messages.lap_message import LapMessage
    from fit_tool.profile.messages.session_message import SessionMessage
    from fit_tool.profile.messages.training_file_message import TrainingFileMessage
    from fit_tool.profile.profile_type import (
        Event,
        EventType,
        FileType,
        Manufacturer,
        Sport,
        SubSport,
    )

    def ms(moment: datetime) -> int:
        return round(moment.timestamp() * 1000)  # fit-tool takes date_time as Unix ms

    builder = FitFileBuilder(auto_define=True)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.product = _PRODUCT
    file_id.serial_number = _SERIAL
    file_id.time_created = ms(start)
    builder.add(file_id)
    reference = TrainingFileMessage()
    reference.timestamp = ms(start)
    reference.type = FileType.WORKOUT
    reference.manufacturer = workout.manufacturer
    reference.product = workout.product
    reference.serial_number = workout.serial_number
    reference.time_created = ms(workout.created_at)
    builder.add(reference)

    def timer(kind: EventType, moment: datetime) -> None:
        event = EventMessage()
        event.timestamp = ms(moment)
        event.event = Event.TIMER
        event.event_type = kind
        builder.add(event)

    timer(EventType.START, start)
    end = start
    for number, lap in enumerate(laps):
        if lap.pause_ms:
            paused = lap.start + timedelta(milliseconds=lap.pause_after_ms)
            timer(EventType.STOP_ALL, paused)
            timer(EventType.START, paused + timedelta(milliseconds=lap.pause_ms))
        end = lap.start + timedelta(milliseconds=lap.timer_ms + lap.pause_ms)
        message = LapMessage()
        message.message_index = number
        message.timestamp = ms(end)
        message.start_time = ms(lap.start)
        message.total_elapsed_time = (lap.timer_ms + lap.pause_ms) / 1000
        message.total_timer_time = lap.timer_ms / 1000
        # fit-tool calls wkt_step_index "workout_step_index"; any other name is a silent no-op.
        message.workout_step_index = lap.step.step_index
        builder.add(message)
    timer(EventType.STOP_ALL, end)
    timer_s = sum(lap.timer_ms for lap in laps) / 1000
    session = SessionMessage()
    session.message_index = 0
    session.timestamp = ms(end)
    session.start_time = ms(start)
    session.total_elapsed_time = (end - start).total_seconds()
    session.total_timer_time = timer_s
    session.sport = Sport.TRAINING
    session.sub_sport = SubSport.STRENGTH_TRAINING
    session.first_lap_index = 0
    session.num_laps = len(laps)
    builder.add(session)
    activity = ActivityMessage()
    activity.timestamp = ms(end)
    activity.total_timer_time = timer_s
    activity.num_sessions = 1
    builder.add(activity)
    return bytes(builder.build().to_bytes())


async def start_for_cli(options: SimOptions) -> SimGarmin:
    """Start the simulated watch for ``wearsync sim`` (its flash folder is the drive).

    Raises:
        InputError: the wearer script skips an exercise (a Garmin wearer cannot).
    """
    if options.wearer.skips:
        raise InputError("--wearer: the simulated Garmin wearer cannot skip; use abort or pause")
    if options.features is not None:
        raise InputError("--features: a Garmin watch has no timer-service feature bits")
    return SimGarmin(
        options.flash_dir, speed=options.speed, wearer=options.wearer, emit=options.emit
    )
