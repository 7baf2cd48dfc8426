"""The Garmin driver: a sync is a folder exchange, there is no radio and no live session.

A Garmin watch runs the workout by itself and reports what was done in its activity files, so
:meth:`GarminFitDriver.exchange` is :func:`~.exchange.sync_folder` on the folder the watch's
address names (``garmin-fit:<absolute path>``, see :attr:`GarminFolder.address`). The lock,
remembering the watch, marking it synced and re-deriving sessions are the interface's, as for
every family. A live session cannot be mirrored: the watch says nothing until its activity file
is copied back, so ``wearsync session`` refuses it in one line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final, Literal

from pydantic import Field

from wearsync.profiles import DriverSettings
from wearsync.sync.driver import (
    Capabilities,
    Driver,
    HeldWatch,
    SessionOptions,
    SessionOutcome,
    SessionStartError,
    SyncContext,
    SyncOutcome,
)
from wearsync.watches.garmin_fit.exchange import sync_folder
from wearsync.watches.garmin_fit.folder import GarminFolder, garmin_root
from wearsync.watches.garmin_fit.workout import STEP_LIMIT

log = logging.getLogger(__name__)

#: How a Garmin folder's address starts (the rest is its absolute path).
ADDRESS_PREFIX: Final = "garmin-fit:"


class GarminFitSettings(DriverSettings):
    """The ``[driver]`` table of a ``garmin-fit`` profile."""

    name: Literal["garmin-fit"]
    step_limit: int = Field(default=STEP_LIMIT, ge=1, le=10_000)
    """Warn when a workout needs more steps than this (see docs/garmin.md)."""


class GarminFitDriver(Driver):
    """Garmin watches: FIT workouts out, FIT activities back, through a folder."""

    name = "garmin-fit"
    capabilities = Capabilities(
        cues="watch",
        start_from_companion=False,
        start_on_watch=False,
        event_readback=True,
        clock=False,
    )
    running_boot_after_error = None  # every activity file is a finished session

    def __init__(self, settings: GarminFitSettings) -> None:
        self.settings = settings

    async def exchange(self, ctx: SyncContext, held: HeldWatch) -> SyncOutcome:
        """Import the folder's new activities, then write the workout if it changed.

        Raises:
            GarminFolderError: the folder is gone, or the workout could not be written (the
                activities were stored first).
        """
        folder = GarminFolder.at(folder_path(ctx.address))
        ctx.progress(f"reading activities in {folder.outbox}")
        done = sync_folder(
            ctx.store,
            folder,
            routine=ctx.routine,
            routine_text=ctx.routine_text,
            program=ctx.program,
            step_limit=self.settings.step_limit,
        )
        notes = [f"{w.message} (hint: {w.hint})" for w in done.warnings]
        notes += [f"skipped {problem}" for problem in done.problems]
        for note in notes:
            log.info("%s", note)
        if done.written is not None:
            ctx.progress(f"workout written to {done.written}")
        return SyncOutcome(
            program_identity=done.program_identity,
            program_bytes=done.program_bytes,
            program_pushed=done.program_pushed,
            events_received=done.events_received,
            events_new=done.events_new,
            warnings=tuple(notes),
            running_boot=None,
        )

    def check_start(self, options: SessionOptions) -> None:
        """Refuse every live session: the watch reports only through its activity files."""
        raise SessionStartError(
            "a Garmin watch runs the workout by itself and reports it only in its activity files",
            hint="start the workout on the watch, then run 'wearsync sync --device PATH'",
        )

    async def mirror(
        self, ctx: SyncContext, options: SessionOptions, held: HeldWatch
    ) -> SessionOutcome:
        """Never reached: :meth:`check_start` refuses first."""
        self.check_start(options)
        raise AssertionError("check_start always raises")  # pragma: no cover


def folder_path(address: str) -> Path:
    """The folder a Garmin address names."""
    return Path(address.removeprefix(ADDRESS_PREFIX))


def find_at(device: str) -> tuple[str, str] | None:
    """``(address, name)`` of the Garmin watch at ``device``: a stored address or a folder.

    A path is a Garmin watch when it is or holds a ``GARMIN`` folder, or when it is given as
    a stored address; any other existing folder is taken too (a Gadgetbridge export folder),
    since no Bluetooth address is a folder.
    """
    path = folder_path(device)
    if not path.is_dir():
        return None
    folder = GarminFolder.at(path)
    name = folder.root.name if garmin_root(path) is not None else f"{folder.root.name} (folder)"
    return folder.address, name or folder.address
