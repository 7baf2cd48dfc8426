"""One sync with a Garmin folder: read back what was done, then write the workout if it changed.

The order loses nothing: activities are read and their events stored (one transaction) before
anything is written, so a read-only or full drive still yields its sessions; the workout is
then written only when no identical file is waiting or loaded (:meth:`GarminFolder.write_workout`).

Activities are matched against every program pushed to this folder's watch, not only the
current one: a session recorded before the routine changed still maps back to its exercises.
The keys of those programs are kept in the store's settings (one JSON list per device), and
each program is compiled again from the routine text its push record keeps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from wearsync.errors import WearSyncError
from wearsync.routine.compiler import TimerProgram, compile_routine
from wearsync.routine.loader import parse_routine
from wearsync.routine.model import Routine
from wearsync.store import Store
from wearsync.sync.driver import program_key
from wearsync.watches.garmin_fit.activity import KnownWorkout
from wearsync.watches.garmin_fit.codec import encode_workout
from wearsync.watches.garmin_fit.folder import GarminFolder, collect_activities
from wearsync.watches.garmin_fit.workout import STEP_LIMIT, WorkoutWarning

_PUSHED_SETTING: Final = "garmin-fit/pushed/"
#: The device profile a Garmin folder is remembered under.
PROFILE_ID: Final = "garmin-fit"


@dataclass(frozen=True)
class FolderSync:
    """What one sync with a Garmin folder did."""

    program_identity: str
    program_bytes: int
    program_pushed: bool
    written: Path | None
    events_received: int
    events_new: int
    files_imported: tuple[str, ...]
    problems: tuple[str, ...]
    """One line per activity file that could not be read (nothing of it was stored)."""
    warnings: tuple[WorkoutWarning, ...]


def sync_folder(
    store: Store,
    folder: GarminFolder,
    *,
    routine: Routine,
    routine_text: str,
    program: TimerProgram | None = None,
    step_limit: int = STEP_LIMIT,
) -> FolderSync:
    """Import the folder's new activities, then write the workout of ``routine`` if needed.

    Args:
        store: the open database; the folder is remembered as a device if it is not yet.
        folder: the watch's folder.
        routine: the routine to push; ``routine_text`` is its source, kept with the push.
        program: ``routine`` compiled, when the caller has it already.
        step_limit: warn when the workout needs more steps than this.

    Raises:
        GarminFolderError: the workout could not be written (activities were stored first).
    """
    address = folder.address
    if store.device(address) is None:
        store.remember_device(address, folder.root.name or address, PROFILE_ID)
    program = program or compile_routine(routine)
    key = program_key(program)
    encoded = encode_workout(program, routine, step_limit=step_limit)
    workouts = [KnownWorkout(program, routine, key), *_earlier_workouts(store, address, key)]
    found = collect_activities(
        folder,
        device=address,
        workouts=workouts,
        stored=lambda boot: store.has_event(address, boot, 0),
    )
    if any(e.program_hash == key for e in found.events) and store.pushed_routine(key) is None:
        # The workout reached the watch some other way (export fit, a copy by hand).
        _record_push(store, address, key, routine, routine_text)
    new = store.add_events(found.events)
    written = folder.write_workout(encoded, routine.name)
    if written is not None or store.pushed_routine(key) is None:
        _record_push(store, address, key, routine, routine_text)
    return FolderSync(
        program_identity=key,
        program_bytes=len(encoded.data),
        program_pushed=written is not None,
        written=written,
        events_received=len(found.events),
        events_new=new,
        files_imported=tuple(found.imported),
        problems=tuple(found.problems),
        warnings=encoded.warnings,
    )


def _record_push(store: Store, address: str, key: str, routine: Routine, text: str) -> None:
    store.record_push(address, key, routine.name, text)
    keys = _pushed_keys(store, address)
    if key not in keys:
        store.set_setting(_PUSHED_SETTING + address, json.dumps([*keys, key]))


def _pushed_keys(store: Store, address: str) -> list[str]:
    raw = store.get_setting(_PUSHED_SETTING + address)
    try:
        keys = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        return []
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


def _earlier_workouts(store: Store, address: str, current: str) -> list[KnownWorkout]:
    known = []
    for key in _pushed_keys(store, address):
        pushed = store.pushed_routine(key) if key != current else None
        if pushed is None:
            continue
        try:
            routine = parse_routine(pushed[1], source=f"the routine pushed as {key}")
            program = compile_routine(routine)
        except WearSyncError:
            continue  # a routine this version no longer compiles: its activities stay unread
        if program_key(program) == key:
            known.append(KnownWorkout(program, routine, key))
    return known
