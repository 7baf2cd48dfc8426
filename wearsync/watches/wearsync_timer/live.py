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
from typing import TYPE_CHECKING

from wearsync.ble.connection import FoundWatch
from wearsync.records import utc_now
from wearsync.routine.compiler import TimerProgram, compile_routine
from wearsync.routine.model import Routine
from wearsync.store import Store
from wearsync.sync.live import SILENCE_TIMEOUT_S, LiveUpdate
from wearsync.sync.reports import Progress, SessionReport
from wearsync.watches.wearsync_timer.codec import (
    EventKind,
    SessionState,
    TimerInfo,
    encode_program,
    program_identity,
)
from wearsync.watches.wearsync_timer.driver import SyncSession, open_watch, to_stored

if TYPE_CHECKING:
    from wearsync.ble.bumble_backend.central import HciSpec

log = logging.getLogger(__name__)


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
    info: TimerInfo,
    identity: bytes,
    start: bool,
    on_update: Callable[[LiveUpdate], None],
    silence_timeout: float = SILENCE_TIMEOUT_S,
) -> LiveOutcome:
    """Start (or wait for) a session on the watch and report it until it ends.

    Args:
        session: a connected sync session (program already pushed).
        program: the compiled program the watch runs (the one whose identity is ``identity``).
        info: the Timer Info read on connecting (places events in time, §10.3).
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
            stored = to_stored(event, session.watch.address, identity.hex(), info, utc_now())
            update = LiveUpdate.of(stored, program)
            on_update(update)
            if event.kind in (EventKind.SESSION_COMPLETED, EventKind.SESSION_ABORTED):
                return LiveOutcome(update.kind, steps_seen, events_seen)


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
            info=info,
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
