"""The driver interface every watch family implements, and the steps every sync shares.

A family's driver (``wearsync/watches/<family>/driver.py``) subclasses :class:`Driver`, as a
bleak backend subclasses ``BaseBleakClient``: it declares what its watches can do
(:class:`Capabilities`) and implements two coroutines, :meth:`Driver.exchange` (one sync) and
:meth:`Driver.mirror` (one live session). Everything around them is done here, once for every
family: the lock against other wearsync processes, remembering the watch, marking it synced,
re-deriving its sessions from the stored events, and building the :class:`SyncReport` and
:class:`SessionReport` from what the driver says it did (:class:`SyncOutcome`,
:class:`SessionOutcome`).

Callers build one :class:`SyncContext` (the routine compiled once) and call
:meth:`Driver.sync` or :meth:`Driver.session`; the registry
(:mod:`wearsync.watches.registry`) gives them the driver of a profile.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Final, Literal

from wearsync.ble.connection import FoundWatch, find_known_watch, find_watch
from wearsync.errors import WearSyncError
from wearsync.paths import data_dir
from wearsync.profiles import DeviceProfile
from wearsync.records import SessionRecord, SessionStatus, utc_now
from wearsync.routine.compiler import TimerProgram, compile_routine
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import Occurrence
from wearsync.store import Store
from wearsync.sync.live import SILENCE_TIMEOUT_S, UpdateListener
from wearsync.sync.lock import watch_lock
from wearsync.sync.programs import ProgramLookup
from wearsync.sync.reports import Progress, SessionReport, SyncReport, quiet
from wearsync.sync.sessions import derive_sessions

if TYPE_CHECKING:
    from wearsync.ble.hci import HciSpec

#: Hex digits of the content hash that name a program in events and push records, for drivers
#: whose watch has no program identity of its own (the Bangle.js runner, host-timed cues).
PROGRAM_KEY_DIGITS: Final = 12

#: ``running_boot`` when the driver cannot tell: the newest boot's last open session stays in
#: progress (a watch that runs its own timer may still be running it).
NEWEST_BOOT: Final = "newest"
RunningBoot = int | None | Literal["newest"]


def program_key(program: TimerProgram) -> str:
    """The key ``program``'s events and push record are stored under (see the constant)."""
    return program.content_hash[:PROGRAM_KEY_DIGITS]


@dataclass(frozen=True)
class Capabilities:
    """What a family's watches can do, as far as the companion has to know.

    Attributes:
        cues: ``watch`` when the watch times the cues itself, ``host`` when the companion fires
            each one while connected.
        start_from_companion: ``wearsync session`` can start a session on the watch.
        start_on_watch: the wearer can start it on the watch (``wearsync session --wait``).
        event_readback: the watch keeps a record of what was done for the companion to read.
        clock: the companion can set the watch's clock.
    """

    cues: Literal["watch", "host"]
    start_from_companion: bool
    start_on_watch: bool
    event_readback: bool
    clock: bool


class SessionStartError(WearSyncError):
    """The watch cannot start a session the way it was asked to."""


@dataclass
class SyncContext:
    """Everything one sync or session works with; the routine is compiled once, by the caller.

    Attributes:
        store: the open database.
        watch: the watch found by a scan, with its profile.
        routine: the routine to run.
        routine_text: its source text (kept with every push, so events map back to names).
        program: ``routine`` compiled.
        hci: the HCI transport (``None``: ``$WEARSYNC_HCI`` or the platform stack).
        progress: progress messages for a display.
        lock_wait: how long to wait for another wearsync process holding the watch.
    """

    store: Store
    watch: FoundWatch
    routine: Routine
    routine_text: str
    program: TimerProgram
    hci: HciSpec | None = None
    progress: Progress = quiet
    lock_wait: float = 30.0

    @classmethod
    def of(
        cls,
        store: Store,
        watch: FoundWatch,
        routine: Routine,
        routine_text: str,
        *,
        hci: HciSpec | None = None,
        progress: Progress | None = None,
        lock_wait: float = 30.0,
    ) -> SyncContext:
        """A context with ``routine`` compiled (raises the compiler's errors)."""
        return cls(
            store,
            watch,
            routine,
            routine_text,
            compile_routine(routine),
            hci,
            progress or quiet,
            lock_wait,
        )

    @property
    def address(self) -> str:
        """The watch's address."""
        return self.watch.address


@dataclass(frozen=True)
class SessionOptions:
    """How ``wearsync session`` wants the session run.

    Attributes:
        on_update: called with every event of the session, in order.
        start: start it from the companion; otherwise wait for the wearer to start it.
        speed: time scale (host-timed cues run this many times faster; 1 for a real session).
        silence_timeout: stop listening when the watch has said nothing for this long.
        entry: what to start: None for the whole routine, else the id of an exercise done
            several times a day (an entry of :mod:`wearsync.routine.occurrences`).
    """

    on_update: UpdateListener
    start: bool = True
    entry: str | None = None
    speed: float = 1.0
    silence_timeout: float = SILENCE_TIMEOUT_S


@dataclass(frozen=True)
class Collected:
    """What reading back a watch's stored events gave: how many came, how many were new, and
    the last id acknowledged (``boot/seq``); two read-backs add up."""

    received: int = 0
    new: int = 0
    acked_through: str | None = None

    def __add__(self, other: Collected) -> Collected:
        return Collected(
            self.received + other.received,
            self.new + other.new,
            other.acked_through or self.acked_through,
        )


@dataclass(frozen=True)
class SyncOutcome:
    """What a driver's :meth:`Driver.exchange` did; the report is built from it."""

    program_identity: str
    program_bytes: int
    program_pushed: bool
    paired: bool = False
    bonded: bool = False
    clock_set: bool = False
    events_received: int = 0
    events_new: int = 0
    acked_through: str | None = None
    rejected_notifications: int = 0
    warnings: tuple[str, ...] = ()
    """One line each for the user: what was skipped or looks wrong, the sync went on."""
    running_boot: RunningBoot = NEWEST_BOOT


@dataclass(frozen=True)
class SessionOutcome:
    """What a driver's :meth:`Driver.mirror` saw."""

    program_pushed: bool
    ended: str
    """``session_completed``, ``session_aborted``, ``link_lost`` or ``silent``."""
    steps_seen: int
    events_seen: int
    events_new: int
    bonded: bool = False
    running_boot: RunningBoot = NEWEST_BOOT


@dataclass
class HeldWatch:
    """A watch this process holds: whether its link was lost, and who to tell when it is."""

    lost: bool = False
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    def on_lost(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` when the link goes down."""
        self._listeners.append(listener)

    def link_lost(self) -> None:
        """The connection's disconnected callback."""
        self.lost = True
        for listener in self._listeners:
            listener()


#: Finds a watch reached without a scan (a Garmin's folder) by a device name, path or address.
WatchAt = Callable[[str, Sequence[DeviceProfile]], FoundWatch | None]


async def locate_watch(
    store: Store,
    profiles: Sequence[DeviceProfile],
    *,
    device: str | None,
    hci: HciSpec | None,
    seconds: float,
    progress: Progress = quiet,
    watch_at: WatchAt | None = None,
    passive: bool = False,
) -> FoundWatch:
    """Find ``device`` (name, address or path), else the watch synced last, else any compatible
    one: first where a family reaches it without a scan (``watch_at``), else by scanning.

    Args:
        passive: a watch the store knows (by address or name, with a profile among
            ``profiles``) is listened for passively, by its address: no scan request, and the
            remembered name and profile (a passive scan never sees the scan response's name).
            An unknown one is still found by an active scan.

    Raises:
        DeviceNotFoundError: it did not advertise within ``seconds``.
    """
    target = device
    if target is None and (known := store.devices()):
        target = known[0].address
    if watch_at is not None and target is not None:
        found = watch_at(target, profiles)
        if found is not None:
            return found
    progress(f"looking for {target or 'a compatible watch'}")
    record = store.device(target) if passive and target is not None else None
    profile = next((p for p in profiles if record and p.id == record.profile), None)
    if record is not None and profile is not None:
        return await find_known_watch(
            record.address, profile, name=record.name, hci=hci, seconds=seconds
        )
    return await find_watch(profiles, name_or_address=target, hci=hci, seconds=seconds)


@asynccontextmanager
async def hold_watch(ctx: SyncContext) -> AsyncIterator[HeldWatch]:
    """Lock the watch against other processes and remember it, for one sync or session.

    The driver connects inside the block with ``connect(..., disconnected=held.link_lost)``.

    Raises:
        WatchBusyError: another process holds the watch.
    """
    watch = ctx.watch
    ctx.store.remember_device(watch.address, watch.name or watch.address, watch.profile.id)
    held = HeldWatch()
    async with watch_lock(data_dir() / "locks", watch.address, wait=ctx.lock_wait):
        ctx.progress(f"connecting to {watch.name or watch.address}")
        yield held


def refresh_sessions(store: Store, address: str, *, running_boot: RunningBoot) -> int:
    """Re-derive and save ``address``'s sessions from its stored events; returns how many.

    Args:
        running_boot: the boot in which the watch runs a session right now; ``None`` when it
            runs none (or the companion that timed it is gone); :data:`NEWEST_BOOT` when the
            driver cannot tell. Only that boot's last open session stays in progress; every
            other open session is interrupted.
    """
    lookup = ProgramLookup(store)
    now = utc_now()
    events = store.events(address)
    sessions = derive_sessions(events, lookup, now=now)
    newest = max((e.boot_id for e in events), default=None)
    if running_boot != NEWEST_BOOT and newest != running_boot:
        # only the newest boot's last open session can be in progress, and that boot runs none
        sessions = [
            _interrupted(s) if s.status is SessionStatus.IN_PROGRESS else s for s in sessions
        ]
    store.save_sessions(sessions, derived_for=address)
    return len(sessions)


def _interrupted(session: SessionRecord) -> SessionRecord:
    return session.model_copy(update={"status": SessionStatus.INTERRUPTED})


class Driver(ABC):
    """How wearsync talks to one family of watches.

    Subclasses set :attr:`name` (the ``[driver] name`` of their profiles) and
    :attr:`capabilities`, and implement :meth:`exchange` and :meth:`mirror`. They are built by
    the family with the profile's validated ``[driver]`` settings.
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    async def sync(self, ctx: SyncContext) -> SyncReport:
        """Sync ``ctx.routine`` with the watch and read back what was done.

        Raises:
            WatchBusyError: another process is syncing the watch.
            BleError: the watch could not be reached, or the link was lost (safe to retry).
            WearSyncError: the family's own errors (version, size, refused upload).
        """
        started = time.monotonic()
        with self._sessions_kept(ctx):
            async with hold_watch(ctx) as held:
                outcome = await self.exchange(ctx, held)
        # A link lost mid-sync raises; the normal disconnect at the end also calls link_lost.
        ctx.store.mark_synced(ctx.address, bonded=outcome.bonded)
        sessions = refresh_sessions(ctx.store, ctx.address, running_boot=outcome.running_boot)
        return SyncReport(
            address=ctx.address,
            name=ctx.watch.name,
            profile=ctx.watch.profile.id,
            routine=ctx.routine.name,
            program_identity=outcome.program_identity,
            program_bytes=outcome.program_bytes,
            program_pushed=outcome.program_pushed,
            paired=outcome.paired,
            clock_set=outcome.clock_set,
            events_received=outcome.events_received,
            events_new=outcome.events_new,
            acked_through=outcome.acked_through,
            rejected_notifications=outcome.rejected_notifications,
            warnings=list(outcome.warnings),
            sessions=sessions,
            seconds=round(time.monotonic() - started, 3),
        )

    async def session(self, ctx: SyncContext, options: SessionOptions) -> SessionReport:
        """Sync, run a session (started here or by the wearer), mirror it live, store it.

        Raises:
            SessionStartError: the family cannot start the session the way asked.
            WatchBusyError, BleError, WearSyncError: as :meth:`sync`.
        """
        self.check_start(options)
        with self._sessions_kept(ctx):
            async with hold_watch(ctx) as held:
                outcome = await self.mirror(ctx, options, held)
        if outcome.ended != "link_lost":
            ctx.store.mark_synced(ctx.address, bonded=outcome.bonded)
        sessions = refresh_sessions(ctx.store, ctx.address, running_boot=outcome.running_boot)
        return SessionReport(
            address=ctx.address,
            routine=ctx.routine.name,
            program_pushed=outcome.program_pushed,
            ended=outcome.ended,
            steps_seen=outcome.steps_seen,
            events_seen=outcome.events_seen,
            events_new=outcome.events_new,
            sessions=sessions,
        )

    #: What ``running_boot`` is when a sync or session failed part-way (see
    #: :func:`refresh_sessions`); host-timed drivers say ``None``: nothing runs without them.
    running_boot_after_error: ClassVar[RunningBoot] = NEWEST_BOOT

    @contextmanager
    def _sessions_kept(self, ctx: SyncContext) -> Iterator[None]:
        """On any error, still turn what was stored before it into sessions, then re-raise."""
        try:
            yield
        except BaseException:
            refresh_sessions(ctx.store, ctx.address, running_boot=self.running_boot_after_error)
            raise

    def check_start(self, options: SessionOptions) -> None:
        """Refuse, before anything is written, a start this family cannot do."""
        caps = self.capabilities
        if options.start and not caps.start_from_companion:
            raise SessionStartError(
                "this watch cannot be started from the companion",
                hint="run 'wearsync session --wait' and start the routine on the watch",
            )
        if not options.start and not caps.start_on_watch:
            raise SessionStartError(
                "this watch cannot start a session by itself: the companion times it",
                hint="run 'wearsync session' without --wait",
            )

    async def remind(self, ctx: SyncContext, occurrence: Occurrence) -> bool:
        """Alert the wearer now of ``occurrence`` (a planned start of an entry), if this family
        needs the companion for it; returns whether an alert was sent.

        The default sends nothing: a watch that knows the schedule reminds the wearer itself
        (the timer service, docs/protocol.md §5.9). Host-timed families override it.
        """
        del ctx, occurrence
        return False

    async def send_reminder(self, ctx: SyncContext, occurrence: Occurrence) -> bool:
        """:meth:`remind` with the watch held (lock), as ``wearsync serve`` calls it."""
        async with hold_watch(ctx):
            return await self.remind(ctx, occurrence)

    async def needs_sync(self, ctx: SyncContext) -> str | None:
        """Why the watch should be connected to, judged from what it advertised
        (``ctx.watch``), or ``None`` when its advertisement says a sync would change nothing.

        The default knows no such advertisement: always a reason. Never connects.
        """
        return "the watch does not advertise its state"

    @abstractmethod
    async def exchange(self, ctx: SyncContext, held: HeldWatch) -> SyncOutcome:
        """Connect and do one sync with the locked watch (push, clock, events)."""

    @abstractmethod
    async def mirror(
        self, ctx: SyncContext, options: SessionOptions, held: HeldWatch
    ) -> SessionOutcome:
        """Connect, run one session with the locked watch and report it to ``options``."""
