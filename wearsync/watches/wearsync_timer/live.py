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
from dataclasses import dataclass

from wearsync.records import utc_now
from wearsync.sync.driver import SessionOptions
from wearsync.sync.live import LiveUpdate
from wearsync.watches.wearsync_timer.codec import EventKind, SessionState, TimerInfo
from wearsync.watches.wearsync_timer.driver import TimerLink, to_stored

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveOutcome:
    """How a mirrored session ended."""

    ended: str
    """``session_completed``, ``session_aborted`` or ``link_lost``/``silent``."""
    steps_seen: int
    events_seen: int


async def mirror_session(
    link: TimerLink,
    *,
    info: TimerInfo,
    identity: bytes,
    options: SessionOptions,
    entry: int = 0,
) -> LiveOutcome:
    """Start (or wait for) a session on the watch and report it until it ends.

    Args:
        link: the connected watch (program already pushed); its context's program is the one
            whose identity is ``identity``.
        info: the Timer Info read on connecting (places events in time, §10.3).
        identity: the program identity, for START_SESSION.
        options: start it (START_SESSION) or wait for the wearer; where updates go.
        entry: the wire entry to start (START_ENTRY, §7.7); 0 the whole routine.
    """
    client = link.client
    program = link.ctx.program
    start = options.start
    await client.enable_notifications()
    if start:
        status = await client.read_status()
        if status.state != SessionState.IDLE:
            log.info("a session is already running on the watch; mirroring it")
        else:
            await client.start_session(identity, entry)
    steps_seen = 0
    events_seen = 0
    while True:
        try:
            async with asyncio.timeout(options.silence_timeout):
                events = await client.next_live_events()
        except TimeoutError:
            return LiveOutcome("silent", steps_seen, events_seen)
        for event in events:
            events_seen += 1
            if event.kind == EventKind.STEP_STARTED:
                steps_seen += 1
            stored = to_stored(event, link.address, identity.hex(), info, utc_now())
            update = LiveUpdate.of(stored, program)
            options.on_update(update)
            if event.kind in (EventKind.SESSION_COMPLETED, EventKind.SESSION_ABORTED):
                return LiveOutcome(update.kind, steps_seen, events_seen)
