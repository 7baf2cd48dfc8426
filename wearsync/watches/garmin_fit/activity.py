"""A Garmin activity FIT file read back as wearsync's completion events (pure, no I/O).

After a workout, the watch writes an activity file (File Id ``type`` activity, 4) with a
**Session** (``start_time``, ``total_timer_time``), one **Lap** per workout step it ran
(``start_time``, ``total_timer_time``, ``wkt_step_index``) and, for strength activities,
**Set** messages (``start_time``, ``duration``, ``wkt_step_index``). A **Training File**
message (``type`` workout, ``manufacturer``, ``product``, ``serial_number``,
``time_created``) names the workout that was followed: its File Id, which
:func:`~.codec.workout_identity` derives from the program, so the file tells which pushed
program it ran. Files without one are matched by the Workout message's ``wkt_name`` and
``num_valid_steps`` when exactly one known workout has both.

Laps (or, when no lap names a step, sets) are walked along the workout's replay
(:func:`~.workout.replay`): the k-th record is the next program step run by the Workout Step
it names, so repeats map back to set, rep, side and direction. Events follow the kinds and
``duration_ms`` meanings of docs/protocol.md table 9-2 (times exclude pauses):

- ``session_started`` at the session's start;
- ``step_started`` for every lap, with the session time so far;
- ``paused`` and ``resumed`` (with the pause's length) for every stop and restart of the timer
  (Event messages: ``event`` timer, ``event_type`` stop_all or stop, then start);
- once the watch has moved past an exercise: ``exercise_completed`` with the time spent in it,
  or ``exercise_skipped`` when its hold and work steps ran for less than
  :data:`SKIPPED_BELOW` of their planned time (the lap button cuts a step short) or not at all;
- ``session_completed`` when the workout's last step ran out (or the watch went past it),
  else ``session_aborted`` (the wearer stopped and saved early); the exercise under way then
  has no event and shows as not reached.

Events are keyed for storing exactly once: ``boot_id`` is the activity's File Id
``time_created`` (FIT seconds; one watch creates one activity per second at most, and the
numbers grow with time as boots do), ``seq`` counts the file's events from 0.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from wearsync.errors import InputError
from wearsync.records import StoredEvent
from wearsync.routine.compiler import Step, StepKind, TimerProgram
from wearsync.routine.model import Routine
from wearsync.watches.garmin_fit.codec import FIT_EPOCH, FileIdentity, workout_identity
from wearsync.watches.garmin_fit.workout import fit_string, plan_workout

#: An exercise whose hold and work steps ran for less than this share of their planned time
#: was skipped (its steps were lapped through), not done.
SKIPPED_BELOW: Final = 0.5
#: A step that ran within this of its planned time (or a quarter of it, for short steps) ran
#: out rather than being cut short: the watch's lap times are not exact to the millisecond.
_RAN_OUT_MS: Final = 1000
_EFFORT: Final = frozenset({StepKind.HOLD, StepKind.WORK})
_UNIX_TO_FIT_S: Final = int((FIT_EPOCH - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())

# FIT profile message numbers (mesg_num) and enum values read here.
_FILE_ID, _SESSION, _LAP, _EVENT, _WORKOUT, _TRAINING_FILE, _SET = 0, 18, 19, 21, 26, 72, 225
_EVENT_TIMER, _TIMER_START, _TIMER_STOPS = 0, 0, frozenset({1, 4})
_TYPE_ACTIVITY, _TYPE_WORKOUT = 4, 5


class GarminFileError(InputError):
    """A FIT file cannot be imported: ``source: [field: ]problem`` on one line.

    Attributes:
        source: the file (its path, or a name the caller gives).
        problem: what is wrong with it.
    """

    def __init__(self, source: str, problem: str, *, hint: str | None = None) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}", hint=hint)


class DamagedFitFileError(GarminFileError):
    """The bytes are not a whole, readable FIT file (truncated, corrupt, wrong CRC)."""


class ForeignFitFileError(GarminFileError):
    """A readable FIT file, but not an activity of a workout wearsync pushed."""


@dataclass(frozen=True)
class KnownWorkout:
    """A program pushed to the watch, under the key its push was recorded with."""

    program: TimerProgram
    routine: Routine
    key: str
    """The push record's program key (``sync.driver.program_key``: 12 hex digits of the hash)."""


@dataclass(frozen=True)
class ImportedActivity:
    """What one activity file says was done."""

    identity: FileIdentity
    """The activity's own File Id."""
    workout: KnownWorkout
    events: tuple[StoredEvent, ...]
    completed: bool


@dataclass(frozen=True)
class _Record:
    """A lap or set that ran one workout step."""

    start: datetime
    timer_ms: int
    step_index: int


Fields = Mapping[str, object]


def read_activity(
    data: bytes, *, source: str, device: str, workouts: Iterable[KnownWorkout]
) -> ImportedActivity:
    """Read an activity file into the events of its session.

    Args:
        data: the file's bytes.
        source: names the file in errors (its path).
        device: the device address the events are stored under.
        workouts: the programs pushed to this watch; the file must follow one of them.

    Raises:
        DamagedFitFileError: the bytes are not a whole FIT file, or lack what an activity has.
        ForeignFitFileError: not an activity, or the activity of a workout not in ``workouts``.
    """
    messages = _decode(data, source)
    file_id = _one(messages, _FILE_ID, "file_id", source)
    if file_id.get("type") != _TYPE_ACTIVITY:
        raise ForeignFitFileError(
            source, f"file_id.type: {_type_name(file_id.get('type'))}, not an activity (4)"
        )
    identity = _identity(file_id, source, "file_id")
    workout = _which_workout(messages, list(workouts), source)
    session = _one(messages, _SESSION, "session", source)
    records, ran_past = _records(messages, source)
    plan = plan_workout(workout.program, workout.routine)
    steps = _walk(records, plan.positions, source)
    events = _Events(device, identity.time_created, workout)
    pauses = _pauses(messages)
    completed = _emit(events, workout.program, records, steps, session, ran_past, pauses, source)
    return ImportedActivity(identity, workout, tuple(events.out), completed)


@dataclass(frozen=True)
class ActivityPeek:
    """What the first messages of a FIT file say, read without decoding the whole file."""

    file_type: int | None
    """File Id ``type`` (4 activity, 5 workout), or None when the file has no File Id."""
    identity: FileIdentity | None
    """The file's own File Id, when complete."""
    workout: FileIdentity | None
    """The workout a Training File message names, if one comes before the recorded data."""


#: Messages after which a Training File no longer comes: data records, laps, sessions.
_DATA_MESSAGES: Final = frozenset({20, _LAP, _SESSION, _SET})
_PEEK_RECORDS: Final = 256


def peek_activity(data: bytes, source: str) -> ActivityPeek:
    """The File Id and followed workout of a FIT file, from its first messages only.

    A folder of activities holds runs and walks as well as workouts, hours of records each;
    decoding all of them at every sync would take seconds per file. The header messages tell
    which files are worth reading (:func:`read_activity` then checks the whole file).

    Raises:
        DamagedFitFileError: the first messages cannot be read.
    """
    import io

    from fit_tool.exceptions import FitError
    from fit_tool.fit_file import FitFile

    found: dict[int, Fields] = {}
    try:
        stream = FitFile.iter_stream(io.BytesIO(data), check_crc=False)
        for count, record in enumerate(stream):
            message = record.message
            if type(message).__name__ == "DefinitionMessage":
                continue
            number = message.global_id
            if number in _DATA_MESSAGES or count > _PEEK_RECORDS:
                break
            if number in (_FILE_ID, _TRAINING_FILE) and number not in found:
                found[number] = {f.name: f.get_value() for f in message.fields if f.is_valid()}
    except (FitError, ValueError, IndexError, KeyError, TypeError, struct.error) as exc:
        raise DamagedFitFileError(
            source, f"not a readable FIT file ({type(exc).__name__})"
        ) from exc
    file_id = found.get(_FILE_ID, {})
    kind = file_id.get("type")
    training = found.get(_TRAINING_FILE, {})
    return ActivityPeek(
        file_type=kind if isinstance(kind, int) else None,
        identity=_maybe_identity(file_id, source),
        workout=_maybe_identity(training, source)
        if training.get("type") == _TYPE_WORKOUT
        else None,
    )


def _maybe_identity(values: Fields, source: str) -> FileIdentity | None:
    try:
        return _identity(values, source, "file_id")
    except DamagedFitFileError:
        return None


_FILE_TYPES: Final = {1: "device", 4: "activity", 5: "workout", 6: "course", 7: "schedules"}


def _type_name(value: object) -> str:
    """A File Id ``type`` as the profile names it, with its number."""
    if isinstance(value, int):
        return f"{_FILE_TYPES.get(value, 'type')} ({value})"
    return "missing"


# Decoding -------------------------------------------------------------------------------------


def _decode(data: bytes, source: str) -> dict[int, list[Fields]]:
    from fit_tool.exceptions import FitError
    from fit_tool.fit_file import FitFile

    try:
        fit = FitFile.from_bytes(data)
        messages: dict[int, list[Fields]] = {}
        for record in fit.records:
            message = record.message
            if type(message).__name__ == "DefinitionMessage":
                continue
            values = {f.name: f.get_value() for f in message.fields if f.is_valid()}
            messages.setdefault(message.global_id, []).append(values)
    except (FitError, ValueError, IndexError, KeyError, TypeError, struct.error) as exc:
        # fit-tool raises FitError for what it checks; a malformed file can still trip a
        # lower-level error while it decodes, and either way the file is unreadable.
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DamagedFitFileError(
            source,
            f"not a readable FIT file ({fit_string(problem)[:120]})",
            hint="copy the file from the watch again; a partly copied file cannot be read",
        ) from exc
    return messages


def _one(messages: Mapping[int, list[Fields]], number: int, name: str, source: str) -> Fields:
    found = messages.get(number, [])
    if not found:
        raise DamagedFitFileError(source, f"{name}: missing, so this is no complete activity")
    return found[0]


def _int(values: Fields, name: str, source: str, where: str) -> int:
    value = values.get(name)
    if not isinstance(value, int | float):
        raise DamagedFitFileError(source, f"{where}.{name}: missing")
    return int(value)


def _seconds(values: Fields, name: str, default: float = 0.0) -> float:
    """A FIT time field (seconds, stored x1000; fit-tool applies the scale)."""
    value = values.get(name)
    return float(value) if isinstance(value, int | float) else default


def _at(values: Fields, name: str, source: str, where: str) -> datetime:
    # fit-tool reads date_time fields as Unix milliseconds.
    return datetime.fromtimestamp(_int(values, name, source, where) / 1000, UTC)


def _identity(values: Fields, source: str, where: str) -> FileIdentity:
    created_ms = _int(values, "time_created", source, where)
    return FileIdentity(
        # Not part of the key (FileIdentity.key): a reference may leave them out.
        manufacturer=_int(values, "manufacturer", source, where) if "manufacturer" in values else 0,
        product=_int(values, "product", source, where) if "product" in values else 0,
        serial_number=_int(values, "serial_number", source, where),
        time_created=created_ms // 1000 - _UNIX_TO_FIT_S,
    )


def _which_workout(
    messages: Mapping[int, list[Fields]], workouts: Sequence[KnownWorkout], source: str
) -> KnownWorkout:
    by_identity = {workout_identity(w.program).key: w for w in workouts}
    followed = [m for m in messages.get(_TRAINING_FILE, []) if m.get("type") == _TYPE_WORKOUT]
    for reference in followed:
        known = by_identity.get(_identity(reference, source, "training_file").key)
        if known is not None:
            return known
    if followed:
        ref = _identity(followed[0], source, "training_file")
        raise ForeignFitFileError(
            source,
            f"training_file: follows workout {ref.serial_number} of {ref.created_at:%Y-%m-%d}, "
            "not one wearsync pushed to this watch",
        )
    named = messages.get(_WORKOUT, [])
    if named:
        wkt = named[0]
        matches = [
            w
            for w in workouts
            if wkt.get("wkt_name") == fit_string(w.routine.title)
            and wkt.get("num_valid_steps") == len(plan_workout(w.program, w.routine).steps)
        ]
        if len(matches) == 1:
            return matches[0]
    raise ForeignFitFileError(
        source,
        "training_file: missing, and no single pushed workout has this file's workout name "
        "and step count",
        hint="import only activities recorded while following a workout wearsync pushed",
    )


def _records(messages: Mapping[int, list[Fields]], source: str) -> tuple[list[_Record], bool]:
    """The laps (or sets) that name a workout step, and whether a lap naming none follows them.

    Laps are taken in the order they were written (FIT date_time has whole seconds only, so a
    lap cut short may start in the same second as the next).
    """
    laps = messages.get(_LAP, [])
    named = [n for n, m in enumerate(laps) if isinstance(m.get("wkt_step_index"), int)]
    ran_past = bool(named) and any(
        not isinstance(m.get("wkt_step_index"), int) for m in laps[named[-1] + 1 :]
    )
    for number, name, length in ((_LAP, "lap", "total_timer_time"), (_SET, "set", "duration")):
        found = [m for m in messages.get(number, []) if isinstance(m.get("wkt_step_index"), int)]
        if found:
            records = [
                _Record(
                    start=_at(m, "start_time", source, name),
                    timer_ms=round(_seconds(m, length) * 1000),
                    step_index=_int(m, "wkt_step_index", source, name),
                )
                for m in found
            ]
            return records, ran_past
    raise DamagedFitFileError(source, "lap.wkt_step_index: no lap or set names a workout step")


def _walk(records: Sequence[_Record], positions: Sequence[int], source: str) -> list[int]:
    """The program step each record ran: the next one its Workout Step runs in the replay."""
    steps: list[int] = []
    cursor = 0
    for number, record in enumerate(records):
        found = next(
            (p for p in range(cursor, len(positions)) if positions[p] == record.step_index), None
        )
        if found is None:
            raise ForeignFitFileError(
                source,
                f"lap {number}: wkt_step_index {record.step_index} does not follow the "
                "workout's steps",
            )
        steps.append(found)
        cursor = found + 1
    return steps


# Events ---------------------------------------------------------------------------------------


class _Events:
    def __init__(self, device: str, boot_id: int, workout: KnownWorkout) -> None:
        self.device = device
        self.boot_id = boot_id
        self.key = workout.key
        self.out: list[StoredEvent] = []

    def add(self, kind: str, at: datetime, step: Step, duration_ms: int) -> None:
        self.out.append(
            StoredEvent(
                device=self.device,
                boot_id=self.boot_id,
                seq=len(self.out),
                at=at,
                kind=kind,
                exercise=step.exercise,
                set=step.set,
                rep=step.rep,
                side=step.side.value,
                direction=step.direction.value,
                step=step.index,
                duration_ms=max(0, duration_ms),
                program_hash=self.key,
            )
        )


@dataclass(frozen=True)
class _Pause:
    start: datetime
    end: datetime

    @property
    def ms(self) -> int:
        return round((self.end - self.start).total_seconds() * 1000)


def _pauses(messages: Mapping[int, list[Fields]]) -> list[_Pause]:
    """Pauses from the timer's Event messages: a stop followed by a start.

    ``event`` timer (0) with ``event_type`` stop (1) or stop_all (4) stops the timer, start (0)
    starts it; a stop with no start after it is the end of the activity, not a pause.
    """
    pauses = []
    stopped: datetime | None = None
    for event in messages.get(_EVENT, []):
        at = event.get("timestamp")
        if event.get("event") != _EVENT_TIMER or not isinstance(at, int):
            continue
        moment = datetime.fromtimestamp(at / 1000, UTC)
        kind = event.get("event_type")
        if kind in _TIMER_STOPS and stopped is None:
            stopped = moment
        elif kind == _TIMER_START and stopped is not None:
            pauses.append(_Pause(stopped, moment))
            stopped = None
    return pauses


def _emit(
    events: _Events,
    program: TimerProgram,
    records: Sequence[_Record],
    steps: Sequence[int],
    session: Fields,
    ran_past: bool,
    pauses: Sequence[_Pause],
    source: str,
) -> bool:
    started = _at(session, "start_time", source, "session")
    events.add("session_started", started, program.steps[0], 0)
    ran: dict[int, _Record] = {}
    waiting = list(pauses)
    elapsed = 0
    for record, index in zip(records, steps, strict=True):
        step = program.steps[index]
        previous = program.steps[steps[len(ran) - 1]] if ran else None
        _pauses_before(events, waiting, record.start, previous or step)
        if previous is not None and previous.exercise != step.exercise:
            _close_exercises(events, program, ran, previous.exercise, step.exercise, record.start)
        events.add("step_started", record.start, step, elapsed)
        ran[index] = record
        elapsed += record.timer_ms
    last = program.steps[-1]
    final = ran.get(last.index)
    # The workout is over when its last step ran out, or the watch recorded on past it (a
    # lap that names no step: the last step was lapped through and the workout ended).
    completed = final is not None and (_ran_out(final, last) or ran_past)
    session_ms = round(_seconds(session, "total_timer_time", elapsed / 1000) * 1000)
    ended = datetime.fromtimestamp(
        started.timestamp() + _seconds(session, "total_elapsed_time", session_ms / 1000), UTC
    )
    where = program.steps[steps[-1]] if steps else program.steps[0]
    _pauses_before(events, waiting, ended, where)
    if completed:
        if ran:
            _close_exercises(events, program, ran, where.exercise, len(program.exercises), ended)
        events.add("session_completed", ended, last, session_ms)
    else:
        events.add("session_aborted", ended, where, session_ms)
    return completed


def _pauses_before(events: _Events, waiting: list[_Pause], moment: datetime, step: Step) -> None:
    """``paused`` and ``resumed`` for the pauses that ended by ``moment``, during ``step``."""
    while waiting and waiting[0].end <= moment:
        pause = waiting.pop(0)
        events.add("paused", pause.start, step, 0)
        events.add("resumed", pause.end, step, pause.ms)


def _close_exercises(
    events: _Events,
    program: TimerProgram,
    ran: Mapping[int, _Record],
    done: int,
    next_exercise: int,
    at: datetime,
) -> None:
    """Events for exercise ``done`` (just left) and any skipped whole before ``next_exercise``."""
    for number in range(done, next_exercise):
        # The lead-in (prepare or transition) belongs to the exercise it leads to.
        own = [s for s in program.steps if s.exercise == number]
        spent = sum(ran[s.index].timer_ms for s in own if s.index in ran)
        planned = sum(s.duration_ms for s in own if s.kind in _EFFORT)
        effort = sum(
            min(ran[s.index].timer_ms, s.duration_ms)
            for s in own
            if s.kind in _EFFORT and s.index in ran
        )
        if planned and effort >= SKIPPED_BELOW * planned:
            events.add("exercise_completed", at, own[-1], spent)
            continue
        cut = next(
            (s for s in own if s.index not in ran or not _ran_out(ran[s.index], s)),
            own[-1],
        )
        events.add("exercise_skipped", at, cut, spent)


def _ran_out(record: _Record, step: Step) -> bool:
    return record.timer_ms >= step.duration_ms - min(_RAN_OUT_MS, step.duration_ms // 4)
