"""The simulated timer watch as ``wearsync sim --watch wearsync-timer`` runs it."""

from __future__ import annotations

from typing import Any

from wearsync.sim.clock import SimClock
from wearsync.sim.motor import Vibration
from wearsync.sim.simulated import RunningWatch, SimOptions
from wearsync.watches.wearsync_timer.codec import EventRecord, Feature
from wearsync.watches.wearsync_timer.sim.watch import DEFAULT_NAME, ENTRY_FEATURES, SimWatch


class TimerSim(RunningWatch):
    """A :class:`SimWatch` as ``wearsync sim`` runs it."""

    def __init__(self, watch: SimWatch) -> None:
        super().__init__(watch)
        self.watch = watch

    def summary(self) -> dict[str, Any]:
        """Boot, program and backlog, for the ready and stopped lines."""
        identity = self.watch.committed_identity
        return {
            "boot_id": self.watch.boot_id,
            "program_identity": identity.hex() if identity else None,
            "unacked_events": len(self.watch.events),
            "features": int(self.watch.features),
        }


def vibration_line(v: Vibration) -> dict[str, Any]:
    """A cue the motor plays, as one output line."""
    return {
        "type": "vibration",
        "cue": v.cue,
        "pattern": list(v.pattern),
        "strength": v.strength,
        "step": v.step,
        "session_ms": v.session_ms,
        "uptime_ms": v.at_ms,
        "utc": v.utc.isoformat() if v.utc else None,
    }


def event_line(e: EventRecord) -> dict[str, Any]:
    """An event the watch records, as one output line."""
    return {
        "type": "event",
        "boot_id": e.boot_id,
        "seq": e.seq,
        "kind": e.kind_name,
        "step": e.step,
        "exercise": e.exercise,
        "set": e.set,
        "rep": e.rep,
        "duration_ms": e.duration_ms,
        "clock_set": e.clock_set,
        "time_s": e.time_s,
        "time_ms": e.time_ms,
    }


async def start_for_cli(options: SimOptions) -> TimerSim:
    """Boot the watch on ``options.link`` with its flash in ``options.flash_dir``."""
    # Every feature by default, ENTRIES too (entry points and reminders), as the firmware.
    features = ENTRY_FEATURES if options.features is None else Feature(options.features)
    watch = await SimWatch.start(
        options.link,
        flash_dir=options.flash_dir,
        name=options.name or DEFAULT_NAME,
        clock=SimClock(options.speed),
        wearer=options.wearer,
        on_vibration=lambda v: options.emit(vibration_line(v)),
        on_event=lambda e: options.emit(event_line(e)),
        features=features,
    )
    return TimerSim(watch)
