"""A session mirrored live while the watch runs it.

The watch times the session itself; this side only listens. Every Event Log notification says
which step began (``step_started``) and the program, compiled here from the same routine, says
what that step is: its exercise, set, repetition, side, duration and the cue the watch played at
its start. The mirror hands a :class:`LiveUpdate` to the display for each of them, and ends on
``session_completed`` or ``session_aborted``. Afterwards the backlog is collected the normal
way (store, then acknowledge), so the live view never decides what is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel

from wearsync.ble.connection import FoundWatch
from wearsync.protocol import EventKind, EventRecord, SessionState, encode_program, program_identity
from wearsync.routine.compiler import Step, TimerProgram, compile_routine
from wearsync.routine.model import Routine
from wearsync.store import Store
from wearsync.sync.programs import kind_name
from wearsync.sync.service import Progress, SyncSession, open_watch

if TYPE_CHECKING:
    from wearsync.ble.bumble_backend.central import HciSpec

log = logging.getLogger(__name__)

#: Give up when the watch has said nothing for this long (seconds of wall time).
SILENCE_TIMEOUT_S: Final = 120.0


@dataclass(frozen=True)
class LiveUpdate:
    """One thing that happened on the watch, with the program's view of it.

    Attributes:
        kind: the event's kind name (``step_started``, ``paused``, ...).
        step: the program step the watch is at, if known.
        exercise: that step's exercise name, if known.
        cue: the cue the watch played when the step started (only for ``step_started``).
        event: the raw event.
    """

    kind: str
    step: Step | None
    exercise: str | None
    cue: str | None
    event: EventRecord

    @classmethod
    def of(
        cls, event: EventRecord, program: TimerProgram | None, *, kind: str | None = None
    ) -> LiveUpdate:
        """``event`` placed in ``program`` (either may name a step or exercise it lacks).

        Args:
            kind: the kind's name when the caller has it already (a stored event).
        """
        step = (
            program.steps[event.step]
            if program is not None and event.step < len(program.steps)
            else None
        )
        name = (
            program.exercises[event.exercise].name
            if program is not None and event.exercise < len(program.exercises)
            else None
        )
        started = event.kind == EventKind.STEP_STARTED
        cue = step.cue if step is not None and started else None
        return cls(kind or kind_name(event.kind), step, name, cue, event)


@dataclass(frozen=True)
class LiveOutcome:
    """How a mirrored session ended."""

    ended: str
    """``session_completed``, ``session_aborted`` or ``link_lost``/``silent``."""
    steps_seen: int
    events_seen: int


async def mirror_session(
    session: SyncSession,
    program: TimerProgram,
    *,
    identity: bytes,
    start: bool,
    on_update: Callable[[LiveUpdate], None],
    silence_timeout: float = SILENCE_TIMEOUT_S,
) -> LiveOutcome:
    """Start (or wait for) a session on the watch and report it until it ends.

    Args:
        session: a connected sync session (program already pushed).
        program: the compiled program the watch runs (the one whose identity is ``identity``).
        identity: the program identity, for START_SESSION.
        start: send START_SESSION; otherwise wait for the wearer to start it on the watch.
        on_update: called for every event, in order.
        silence_timeout: stop waiting when the watch has been silent this long.
    """
    client = session.client
    await client.enable_notifications()
    if start:
        status = await client.read_status()
        if status.state != SessionState.IDLE:
            log.info("a session is already running on the watch; mirroring it")
        else:
            await client.start_session(identity)
    steps_seen = 0
    events_seen = 0
    while True:
        try:
            async with asyncio.timeout(silence_timeout):
                events = await client.next_live_events()
        except TimeoutError:
            return LiveOutcome("silent", steps_seen, events_seen)
        for event in events:
            events_seen += 1
            if event.kind == EventKind.STEP_STARTED:
                steps_seen += 1
            update = LiveUpdate.of(event, program)
            on_update(update)
            if event.kind in (EventKind.SESSION_COMPLETED, EventKind.SESSION_ABORTED):
                return LiveOutcome(update.kind, steps_seen, events_seen)


class SessionReport(BaseModel):
    """The result of ``wearsync session``."""

    address: str
    routine: str
    program_pushed: bool
    ended: str
    steps_seen: int
    events_seen: int
    events_new: int
    sessions: int


async def run_session(
    *,
    store: Store,
    routine: Routine,
    routine_text: str,
    watch: FoundWatch,
    hci: HciSpec | None = None,
    progress: Progress | None = None,
    start: bool = True,
    on_update: Callable[[LiveUpdate], None],
    silence_timeout: float = SILENCE_TIMEOUT_S,
    speed: float = 1.0,
) -> SessionReport:
    """Sync, run a session on the watch while mirroring it, then store what it recorded.

    ``speed`` is accepted for the drivers' common signature; the watch keeps its own time.
    """
    say = progress or (lambda _msg: None)
    program = compile_routine(routine)
    wire = encode_program(program)
    identity = program_identity(wire)
    async with open_watch(store=store, watch=watch, hci=hci, progress=progress) as (
        session,
        info,
        _paired,
    ):
        _clock, _received, _new, _acked, pushed = await session.bonded(
            lambda: session.prepare(info, routine, routine_text, wire, say)
        )
        say("starting the session on the watch" if start else "waiting for the wearer to start")
        outcome = await mirror_session(
            session,
            program,
            identity=identity,
            start=start,
            on_update=on_update,
            silence_timeout=silence_timeout,
        )
        say("reading back the session's events")
        _r, new, _a = await session.collect_events(await session.read_info())
        sessions = session.refresh_sessions()
    return SessionReport(
        address=watch.address,
        routine=routine.name,
        program_pushed=pushed,
        ended=outcome.ended,
        steps_seen=outcome.steps_seen,
        events_seen=outcome.events_seen,
        events_new=new,
        sessions=sessions,
    )
