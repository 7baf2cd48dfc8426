"""The simulated watch's persistent storage: what survives a reboot or a new process.

One directory holds:

============== =============================================================================
``watch.json`` the advertising address, the boot counter and the last Local Time Information
``program.bin`` the committed program (absent when there is none)
``log.json``   unacknowledged events, EVENTS_LOST, the newest id ever recorded, and where a
               running session was (so the next boot can record SESSION_ABORTED, §8.2)
``cccd.json``  CCCD values of bonded clients, stored with the bond (§2.3)
``bonds.json`` the bond keys (bumble's ``JsonKeyStore``)
============== =============================================================================

Every file is replaced atomically (write a temporary file, then ``os.replace``), so a process
killed at any moment leaves each file either old or new, never torn: the committed program is
switched with one rename, which is what §6.4 asks of a two-slot flash layout. Files are not
fsynced: the simulation models a watch reset, not a power cut of the computer running it.

With no directory, the same data lives in memory: it still survives :meth:`SimWatch.reboot`,
but not the process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bumble.keys import JsonKeyStore, KeyStore, MemoryKeyStore

from wearsync.routine.model import Direction, Side
from wearsync.watches.wearsync_timer.codec import (
    DecodeError,
    EventId,
    EventRecord,
    LocalTimeInformation,
    decode_program,
)
from wearsync.watches.wearsync_timer.sim.event_log import EventLog

logger = logging.getLogger(__name__)

WATCH_FILE: Final = "watch.json"
PROGRAM_FILE: Final = "program.bin"
LOG_FILE: Final = "log.json"
CCCD_FILE: Final = "cccd.json"
BONDS_FILE: Final = "bonds.json"
#: The keystore namespace: one watch per flash directory.
KEYSTORE_NAMESPACE: Final = "wearsync-sim"
#: Before any Local Time Information is written, Current Time is taken as UTC.
_UTC_STANDARD: Final = LocalTimeInformation(0)


@dataclass(frozen=True)
class WatchRecord:
    """The small record of the watch itself.

    Attributes:
        address: the random static address it advertises with (kept so bonds stay valid).
        boot_id: the boot counter of the latest boot; 0 before the first.
        local_time: the last Local Time Information written (§10.2).
    """

    address: str | None = None
    boot_id: int = 0
    local_time: LocalTimeInformation = _UTC_STANDARD


@dataclass(frozen=True)
class SessionMarker:
    """Where a running session was at its latest step start or pause.

    Attributes:
        step: the step index.
        exercise: its exercise index.
        set: its set.
        rep: its repetition.
        side: its side.
        direction: its direction.
        session_ms: session time then, pauses excluded.
        entry: the entry running (0 the whole program, §7.7), so the SESSION_ABORTED the next
            boot records names it as the firmware's does.
    """

    step: int
    exercise: int
    set: int
    rep: int
    side: Side
    direction: Direction
    session_ms: int
    entry: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON object for ``log.json``."""
        return {
            "step": self.step,
            "exercise": self.exercise,
            "set": self.set,
            "rep": self.rep,
            "side": self.side.value,
            "direction": self.direction.value,
            "session_ms": self.session_ms,
            "entry": self.entry,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionMarker:
        """The marker of a ``to_json`` object.

        Raises:
            KeyError, ValueError, TypeError: the object is malformed.
        """
        return cls(
            int(data["step"]),
            int(data["exercise"]),
            int(data["set"]),
            int(data["rep"]),
            Side(data["side"]),
            Direction(data["direction"]),
            int(data["session_ms"]),
            int(data.get("entry", 0)),  # files written before entries ran name none
        )


class Flash:
    """Files of one simulated watch, or their in-memory stand-in.

    Args:
        directory: where to keep the files (created if missing); ``None`` keeps them in memory.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = None if directory is None else Path(directory)
        self._memory: dict[str, bytes] = {}
        self._memory_keys = MemoryKeyStore()
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)

    # -- raw files ------------------------------------------------------------------------

    def read(self, name: str) -> bytes | None:
        """The content of file ``name``, or ``None`` if it does not exist."""
        if self.directory is None:
            return self._memory.get(name)
        try:
            return (self.directory / name).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, name: str, data: bytes) -> None:
        """Replace file ``name`` with ``data`` atomically."""
        if self.directory is None:
            self._memory[name] = bytes(data)
            return
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, self.directory / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def delete(self, name: str) -> None:
        """Remove file ``name`` if it exists."""
        if self.directory is None:
            self._memory.pop(name, None)
            return
        with contextlib.suppress(FileNotFoundError):
            (self.directory / name).unlink()

    def _read_json(self, name: str) -> Any:
        raw = self.read(name)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            logger.warning("flash file %s is not JSON; starting it afresh", name)
            return None

    def _write_json(self, name: str, data: Any) -> None:
        self.write(name, json.dumps(data, indent=1, sort_keys=True).encode())

    # -- the watch record -----------------------------------------------------------------

    def load_watch(self) -> WatchRecord:
        """The watch record; a fresh one if there is none yet."""
        data = self._read_json(WATCH_FILE)
        if not isinstance(data, dict):
            return WatchRecord()
        try:
            local = LocalTimeInformation.from_bytes(bytes.fromhex(data.get("local_time", "0000")))
            return WatchRecord(data.get("address"), int(data.get("boot_id", 0)), local)
        except (ValueError, TypeError, DecodeError):
            logger.warning("flash file %s is malformed; starting it afresh", WATCH_FILE)
            return WatchRecord()

    def save_watch(self, record: WatchRecord) -> None:
        """Store the watch record."""
        self._write_json(
            WATCH_FILE,
            {
                "address": record.address,
                "boot_id": record.boot_id,
                "local_time": bytes(record.local_time).hex(),
            },
        )

    # -- the committed program ------------------------------------------------------------

    def load_program(self) -> bytes | None:
        """The committed program, or ``None``; a file that is not a valid program counts as
        none (it cannot have been committed)."""
        data = self.read(PROGRAM_FILE)
        if data is None:
            return None
        try:
            decode_program(data)
        except DecodeError as exc:
            logger.warning("flash holds an invalid program (%s); ignoring it", exc)
            return None
        return data

    def save_program(self, program: bytes) -> None:
        """Make ``program`` the committed program, in one atomic step (§6.4)."""
        self.write(PROGRAM_FILE, program)

    # -- the event log --------------------------------------------------------------------

    def load_log(self, capacity: int) -> tuple[EventLog, SessionMarker | None]:
        """The event log and the marker of a session that was running, if any."""
        data = self._read_json(LOG_FILE)
        if not isinstance(data, dict):
            return EventLog(capacity), None
        try:
            events = [EventRecord.from_bytes(bytes.fromhex(h)) for h in data.get("events", [])]
            newest = data.get("newest")
            log = EventLog(
                capacity,
                events,
                bool(data.get("lost", False)),
                None if newest is None else EventId(int(newest[0]), int(newest[1])),
            )
            marker_data = data.get("session")
            marker = None if marker_data is None else SessionMarker.from_json(marker_data)
        except (ValueError, TypeError, KeyError, IndexError, DecodeError):
            logger.warning("flash file %s is malformed; starting it afresh", LOG_FILE)
            return EventLog(capacity), None
        return log, marker

    def save_log(self, log: EventLog, marker: SessionMarker | None) -> None:
        """Store the event log and the running session's marker."""
        newest = None if log.newest is None else [log.newest.boot_id, log.newest.seq]
        self._write_json(
            LOG_FILE,
            {
                "events": [bytes(e).hex() for e in log.events],
                "lost": log.lost,
                "newest": newest,
                "session": None if marker is None else marker.to_json(),
            },
        )

    # -- bonds and their CCCDs ------------------------------------------------------------

    def keystore(self) -> KeyStore:
        """Where bumble keeps bond keys: ``bonds.json``, or memory."""
        if self.directory is None:
            return self._memory_keys
        return JsonKeyStore(KEYSTORE_NAMESPACE, str(self.directory / BONDS_FILE))

    def load_cccds(self, peer: str) -> dict[str, bytes]:
        """The CCCD values stored with ``peer``'s bond, by characteristic UUID."""
        data = self._read_json(CCCD_FILE)
        if not isinstance(data, dict) or not isinstance(data.get(peer), dict):
            return {}
        try:
            return {uuid: bytes.fromhex(value) for uuid, value in data[peer].items()}
        except (ValueError, TypeError):
            return {}

    def save_cccd(self, peer: str, uuid: str, value: bytes) -> None:
        """Store one CCCD value with ``peer``'s bond."""
        data = self._read_json(CCCD_FILE)
        if not isinstance(data, dict):
            data = {}
        data.setdefault(peer, {})[uuid] = value.hex()
        self._write_json(CCCD_FILE, data)
