"""A Garmin watch as a folder: the workout file goes in, activity files come out.

Two layouts (docs/garmin.md):

- **USB storage**: a watch mounted as a drive (or an MTP mount) has a ``GARMIN`` folder; a
  workout copied to ``GARMIN/NewFiles`` is loaded by the watch at its next start (which moves it
  to ``GARMIN/Workouts``), and the watch writes activities to ``GARMIN/Activity``. The path may
  be the drive or its ``GARMIN`` folder.
- **Any other folder** (a Gadgetbridge export folder, a copy of the activities): the workout is
  written into it, for Gadgetbridge's FIT installer to send over Bluetooth, and activity files
  are read from it.

Writing is atomic (a temporary file in the same folder, then a rename) and skipped when a file
with the same bytes is already there or already loaded, so an unchanged program writes nothing.
Reading peeks at each file's first messages so that runs, walks and other activities cost
milliseconds (see :func:`~.activity.peek_activity`); only activities of known workouts are
decoded whole, and only those not stored before. Files that cannot be read are reported, not
fatal: one damaged file must not keep the others from being imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from wearsync.errors import InputError
from wearsync.records import StoredEvent
from wearsync.watches.garmin_fit.activity import (
    GarminFileError,
    KnownWorkout,
    peek_activity,
    read_activity,
)
from wearsync.watches.garmin_fit.codec import EncodedWorkout, workout_identity

GARMIN: Final = "GARMIN"
NEW_FILES: Final = "NewFiles"
ACTIVITY: Final = "Activity"
WORKOUTS: Final = "Workouts"
_TYPE_ACTIVITY: Final = 4


class GarminFolderError(InputError):
    """The path given for a Garmin watch is not a folder that can be used."""


def garmin_root(path: Path) -> Path | None:
    """The ``GARMIN`` folder of a watch mounted at ``path`` (or ``path`` itself), if any."""
    for candidate in (path / GARMIN, path):
        if candidate.name.upper() == GARMIN and candidate.is_dir():
            return candidate
    return None


@dataclass(frozen=True)
class GarminFolder:
    """Where the workout goes and where activities come from."""

    root: Path
    inbox: Path
    """The workout is written here."""
    outbox: Path
    """Activity files are read from here."""
    loaded: tuple[Path, ...] = ()
    """Folders where the watch keeps workouts it has loaded."""
    usb: bool = False

    @classmethod
    def at(cls, path: Path) -> GarminFolder:
        """The folder layout at ``path``.

        Raises:
            GarminFolderError: ``path`` is not an existing folder.
        """
        if not path.is_dir():
            raise GarminFolderError(
                f"{path}: not a folder",
                hint="give the watch's USB drive, its GARMIN folder, or a folder of FIT files",
            )
        garmin = garmin_root(path)
        if garmin is None:
            return cls(root=path, inbox=path, outbox=path)
        return cls(
            root=garmin.parent,
            inbox=garmin / NEW_FILES,
            outbox=garmin / ACTIVITY,
            loaded=(garmin / WORKOUTS,),
            usb=True,
        )

    @property
    def address(self) -> str:
        """The device address a folder's events are stored under."""
        return f"garmin-fit:{self.root.resolve()}"

    def has_workout(self, data: bytes) -> bool:
        """Whether a file with exactly these bytes is waiting or loaded already."""
        for folder in (self.inbox, *self.loaded):
            for path in _fit_files(folder):
                try:
                    if path.stat().st_size == len(data) and path.read_bytes() == data:
                        return True
                except OSError:
                    continue
        return False

    def write_workout(self, encoded: EncodedWorkout, name: str) -> Path | None:
        """Write the workout as ``<name>.fit`` unless it is there already.

        Returns:
            The path written, or None when nothing had to be written.

        Raises:
            GarminFolderError: the file could not be written.
        """
        if self.has_workout(encoded.data):
            return None
        target = self.inbox / f"{name}.fit"
        write_atomically(target, encoded.data)
        return target

    def activity_files(self) -> list[Path]:
        """The FIT files in the activity folder, oldest name first."""
        return _fit_files(self.outbox)


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file and a rename in the same folder.

    A rename within one folder is atomic: a watch (or Gadgetbridge) never sees half a file, and
    a failed write leaves the previous file as it was.

    Raises:
        GarminFolderError: the file could not be written.
    """
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise GarminFolderError(
            f"{target}: cannot write the workout ({exc.strerror or exc})",
            hint="check that the folder exists and is writable (is the watch mounted?)",
        ) from exc


def _fit_files(folder: Path) -> list[Path]:
    try:
        found = [p for p in folder.iterdir() if p.suffix.lower() == ".fit" and p.is_file()]
    except OSError:
        return []
    return sorted(p for p in found if not p.name.startswith("."))


@dataclass
class FolderImport:
    """What reading a folder's activity files found."""

    files: int = 0
    events: list[StoredEvent] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    """Files whose events are new."""
    stored_before: int = 0
    other: int = 0
    """Files that are no activity of a known workout (runs, walks, workouts, other apps)."""
    problems: list[str] = field(default_factory=list)
    """One line per file that could not be read."""


def collect_activities(
    folder: GarminFolder,
    *,
    device: str,
    workouts: Iterable[KnownWorkout],
    stored: Callable[[int], bool],
) -> FolderImport:
    """Read the activities of known workouts that are not stored yet (nothing is stored here).

    Args:
        device: the address the events are stored under.
        workouts: the programs pushed to this watch.
        stored: whether the activity with this boot id (its ``time_created``) is stored.
    """
    known = list(workouts)
    identities = {workout_identity(w.program).key for w in known}
    found = FolderImport()
    for path in folder.activity_files():
        found.files += 1
        try:
            data = path.read_bytes()
            peek = peek_activity(data, str(path))
            if (
                peek.file_type != _TYPE_ACTIVITY
                or peek.workout is None
                or peek.workout.key not in identities
            ):
                found.other += 1
                continue
            if peek.identity is not None and stored(peek.identity.time_created):
                found.stored_before += 1
                continue
            imported = read_activity(data, source=str(path), device=device, workouts=known)
        except GarminFileError as exc:
            found.problems.append(exc.message)
            continue
        except OSError as exc:
            found.problems.append(f"{path}: cannot read ({exc.strerror or exc})")
            continue
        found.events.extend(imported.events)
        found.imported.append(path.name)
    return found
