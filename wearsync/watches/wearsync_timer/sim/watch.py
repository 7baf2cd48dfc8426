"""The simulated watch: the WearSync Interval Timer Service on bumble, as a watch would run it.

A :class:`SimWatch` is a real GATT server on a :class:`~wearsync.sim.link.VirtualLink` that
speaks ``docs/protocol.md`` with the same codecs as the client. It stages and commits programs
(§6), runs the committed one on a virtual clock with a vibration motor (§5.6, §8), keeps an
event log until acknowledged (§9), keeps a UTC clock set through the Current Time Service
(§10) and stores what a watch keeps in flash in a directory, so it survives :meth:`reboot`
and a new :class:`SimWatch` on the same directory.

Example (a test)::

    link = VirtualLink()
    clock = ManualClock()
    watch = await SimWatch.start(link, flash_dir=tmp, clock=clock, wearer=Wearer.parse("skip=2"))
    async with make_client(watch.address, hci=link, pair=True) as client:
        info = TimerInfo.from_bytes(await client.read_gatt_char(str(uuids.TIMER_INFO)))
        ...
    await clock.advance(600_000)          # run the session that was started
    watch.motor.pulses, watch.events      # what the motor did, what the log holds
    await watch.reboot()                  # new boot id, connections dropped, flash kept
    await watch.close()

Public attributes and properties: ``address``, ``tap`` (an :class:`AttTap` counting every ATT
PDU the watch sends and receives, with ``cut_after(k)``), ``motor`` (``pulses``,
``vibrations``), ``events`` (unacknowledged), ``boot_id``, ``committed_program``,
``committed_identity``, ``state``, ``status``, ``clock``, ``flash``, ``peripheral``.
The watch's own buttons: :meth:`press_start` (``entry=n`` picks an entry from the menu,
§7.7), :meth:`press_pause`, :meth:`press_resume`, :meth:`press_stop`, :meth:`press_skip`.

With feature ENTRIES and a format-2 program the watch reminds the wearer on its own clock
(§5.9): at each planned time it plays the ``reminder`` cue, records REMINDER and appends a
:class:`ReminderShown` to :attr:`SimWatch.reminders` (what the screen shows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from bumble import hci
from bumble.device import Connection

from wearsync.routine.compiler import Step
from wearsync.sim.att_tap import AttTap
from wearsync.sim.clock import Clock, SimClock, Timer
from wearsync.sim.link import VirtualLink
from wearsync.sim.motor import Motor, VibrationListener
from wearsync.sim.peripheral import Peripheral, build_advertising_data, start_peripheral
from wearsync.sim.wearer import Wearer
from wearsync.watches.wearsync_timer.codec import (
    AbortStaged,
    AckEvents,
    AdjustReason,
    AttError,
    AttErrorCode,
    Commit,
    ControlRequest,
    CurrentTime,
    EventKind,
    EventRecord,
    Feature,
    InfoFlags,
    LocalTimeInformation,
    PauseSession,
    ProgramChunk,
    ResumeSession,
    SessionState,
    SessionStatusValue,
    Staging,
    StartEntry,
    StartSession,
    StopSession,
    TimerInfo,
    WireProgram,
    decode_program,
    expand,
    program_identity,
)
from wearsync.watches.wearsync_timer.codec import uuids as U
from wearsync.watches.wearsync_timer.codec.beacon import (
    LTK_SIZE,
    ROTATION_S,
    BeaconState,
    beacon_key,
    seal,
)
from wearsync.watches.wearsync_timer.sim.event_log import EventLog
from wearsync.watches.wearsync_timer.sim.flash import Flash, SessionMarker, WatchRecord
from wearsync.watches.wearsync_timer.sim.reminders import PlannedTime, next_after, window_start
from wearsync.watches.wearsync_timer.sim.session import SessionRunner
from wearsync.watches.wearsync_timer.sim.timer_service import TimerService

logger = logging.getLogger(__name__)

DEFAULT_NAME: Final = "WearSync Sim"
#: The longest the event log waits in memory before it is written to flash.
LOG_FLUSH_S: Final = 0.02
#: Every feature of protocol revision 1 (table 3-1), what a watch before entries offers.
ALL_FEATURES: Final = (
    Feature.SESSION_CONTROL
    | Feature.PAUSE_RESUME
    | Feature.EVENT_REPLAY
    | Feature.CURRENT_TIME_SERVICE
    | Feature.STATE_BEACON
)
#: ALL_FEATURES and ENTRIES: program format 2, START_ENTRY, reminders (§5.8, §5.9).
ENTRY_FEATURES: Final = ALL_FEATURES | Feature.ENTRIES
#: The flash file naming the bond the beacon is keyed with (§14.2).
BEACON_PEER_FILE: Final = "beacon-peer"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_U32: Final = 0xFFFF_FFFF

EventListener = Callable[[EventRecord], None]


@dataclass(frozen=True)
class ReminderShown:
    """A reminder as the watch's screen shows it (§5.9).

    Attributes:
        entry: the wire entry number (0 the whole routine).
        title: what the screen shows: the routine's title or the exercise's name.
        local: the planned local wall time (naive, on the watch's offset).
        utc: the watch's UTC clock when it buzzed.
    """

    entry: int
    title: str
    local: datetime
    utc: datetime


class SimWatch:
    """A simulated watch; make one with :meth:`start`.

    Attributes:
        address: the random static address it advertises with, as bleak writes it; kept in
            flash, so a watch on the same flash has the same address.
        link: the virtual link it is on.
        clock: its virtual clock.
        flash: its persistent storage.
        motor: its vibration motor (``pulses``, ``vibrations``).
        wearer: what the wearer does.
        features: the features it advertises in Timer Info (table 3-1).
        max_program_length: the largest program it stages.
        tap: counts every ATT PDU it sends and receives; ``tap.cut_after(k)`` drops the link
            after the k-th PDU from now.
        peripheral: the bumble peripheral of the current boot.
        boot_id: the boot counter of the current boot.
    """

    #: The GATT face each boot serves; a test substitutes a subclass to misbehave on purpose.
    service_class: type[TimerService] = TimerService

    def __init__(
        self,
        link: VirtualLink,
        *,
        address: str,
        flash: Flash,
        name: str,
        clock: Clock,
        wearer: Wearer,
        motor: Motor,
        on_event: EventListener | None,
        features: Feature,
        max_program_length: int,
        event_capacity: int,
        advertising_interval_ms: float,
    ) -> None:
        self.link = link
        self.flash = flash
        self.name = name
        self.clock = clock
        self.wearer = wearer
        self.motor = motor
        self.on_event = on_event
        self.features = features
        self.max_program_length = max_program_length
        self.event_capacity = event_capacity
        self.advertising_interval_ms = advertising_interval_ms
        self.runner = SessionRunner(clock, motor, self, wearer)
        self.record = WatchRecord()
        self.log = EventLog(event_capacity)
        self.boot_id = 0
        self.peripheral: Peripheral | None = None
        self.service: TimerService | None = None
        self.address = address
        self.tap = AttTap(link, subject=address)
        self._program: bytes | None = None
        self._wire: WireProgram | None = None
        self._marker: SessionMarker | None = None
        self._seq = 0
        self._boot_at = 0
        self._utc_offset_ms: int | None = None
        self._staging: dict[Connection, Staging] = {}
        self._wearer_start: Timer | None = None
        self._log_flush: asyncio.TimerHandle | None = None
        self._wearer_started = False
        self.reminders: list[ReminderShown] = []
        self._reminder: Timer | None = None
        self._started: dict[int, datetime] = {}  # entry -> local time of its last session start
        self._beacon_task: asyncio.Task[None] | None = None
        self._beacon_dirty = False
        self._beacon_rotation: Timer | None = None
        self._beacon_last: tuple[bytes, BeaconState] | None = None
        self._nonce = 0
        #: The beacon it advertises now (§14.1), ``None`` when it advertises none.
        self.beacon: bytes | None = None

    @classmethod
    async def start(
        cls,
        link: VirtualLink,
        *,
        flash_dir: Path | str | None = None,
        name: str = DEFAULT_NAME,
        clock: Clock | None = None,
        wearer: Wearer | None = None,
        on_vibration: VibrationListener | None = None,
        on_event: EventListener | None = None,
        features: Feature = ALL_FEATURES,
        max_program_length: int = 4096,
        event_capacity: int = 256,
        utc: datetime | None = None,
        advertising_interval_ms: float = 20.0,
    ) -> SimWatch:
        """Boot a watch on ``link`` and start advertising.

        Args:
            link: the virtual link (in this process; serve it with ``HciServer`` for others).
            flash_dir: where its flash lives; ``None`` keeps flash in memory.
            name: the advertised local name.
            clock: its clock; real time by default.
            wearer: what the wearer does; by default every step, and start is left to a client.
            on_vibration: called with each cue as it starts playing.
            on_event: called with each event as it is recorded.
            features: the features of table 3-1 it offers.
            max_program_length: the largest program it stages, in bytes.
            event_capacity: how many events the log holds.
            utc: set the clock to this aware time at boot (as if CTS had been written).
            advertising_interval_ms: the advertising interval.
        """
        flash = Flash(flash_dir)
        # The address is the watch's for life, so that bonds and the tap stay valid.
        address = flash.load_watch().address or hci.Address.generate_static_address().to_string(
            with_type_qualifier=False
        )
        watch = cls(
            link,
            address=address,
            flash=flash,
            name=name,
            clock=clock or SimClock(),
            wearer=wearer or Wearer(),
            motor=Motor(on_vibration),
            on_event=on_event,
            features=features,
            max_program_length=max_program_length,
            event_capacity=event_capacity,
            advertising_interval_ms=advertising_interval_ms,
        )
        if utc is not None:
            watch.set_utc(utc)
        await watch._boot()
        return watch

    # -- what a test or the CLI looks at ---------------------------------------------------

    @property
    def events(self) -> list[EventRecord]:
        """The unacknowledged events, oldest first."""
        return list(self.log.events)

    @property
    def committed_program(self) -> bytes | None:
        """The committed program, or ``None``."""
        return self._program

    @property
    def committed_identity(self) -> bytes | None:
        """The committed program's identity (§5.7), or ``None``."""
        return None if self._program is None else program_identity(self._program)

    @property
    def state(self) -> SessionState:
        """Idle, running or paused."""
        return self.runner.state

    @property
    def status(self) -> SessionStatusValue:
        """The Session Status value now."""
        return self.runner.status()

    @property
    def connections(self) -> list[Connection]:
        """The live connections."""
        return [] if self.peripheral is None else list(self.peripheral.connections)

    @property
    def uptime_ms(self) -> int:
        """Milliseconds since this boot began."""
        return self.clock.now_ms() - self._boot_at

    @property
    def utc(self) -> datetime | None:
        """The watch's UTC clock now, or ``None`` if it was never set."""
        return self._utc_at(self.clock.now_ms())

    async def drain(self) -> None:
        """Wait until every queued notification has been sent (and the log is in flash)."""
        self.flush_log()
        if self.service is not None:
            await self.service.drain()

    # -- the watch's buttons --------------------------------------------------------------

    async def beacon_settled(self) -> None:
        """Return once the advertising data carries the current state beacon (§14.3)."""
        while self._beacon_task is not None and not self._beacon_task.done():
            await asyncio.shield(self._beacon_task)

    async def press_start(self, entry: int = 0) -> None:
        """The wearer starts the committed program, or entry ``entry`` from the menu (§7.7).

        Raises:
            AttError: ``NO_PROGRAM``, ``SESSION_ACTIVE`` or ``UNKNOWN_ENTRY``, as START_ENTRY
                would.
        """
        if self._wire is None:
            raise AttError(AttErrorCode.NO_PROGRAM)
        self._start(entry)

    async def press_pause(self) -> None:
        """The wearer pauses (``NOT_RUNNING`` unless running)."""
        self.runner.pause()

    async def press_resume(self) -> None:
        """The wearer resumes (``NOT_RUNNING`` unless paused)."""
        self.runner.resume()

    async def press_stop(self) -> None:
        """The wearer stops the session (nothing when idle)."""
        self.runner.stop()

    async def press_skip(self) -> None:
        """The wearer skips the rest of the current exercise (``NOT_RUNNING`` unless running)."""
        self.runner.skip()

    # -- power ----------------------------------------------------------------------------

    async def reboot(self) -> None:
        """Restart the watch: links drop (as a link loss), the boot id goes up, ``seq`` starts
        again at 0, staging and any session end; flash, the bonds and the RTC are kept."""
        logger.info("rebooting %s", self.name)
        await self._shut_down(link_loss=True)
        await self._boot()

    async def close(self) -> None:
        """Switch the watch off: disconnect, stop advertising, leave the link.

        A session still running is cut as by a reboot: a watch started later on the same
        flash records SESSION_ABORTED.
        """
        await self._shut_down(link_loss=False)
        self.tap.close()

    async def _shut_down(self, *, link_loss: bool) -> None:
        self.runner.halt()
        self._cancel_reminder()
        if self._beacon_rotation is not None:
            self._beacon_rotation.cancel()
            self._beacon_rotation = None
        if self._beacon_task is not None:
            self._beacon_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beacon_task
            self._beacon_task = None
        self.flush_log()
        if self._wearer_start is not None:
            self._wearer_start.cancel()
            self._wearer_start = None
        if link_loss:
            self.link.drop_connections_of(self.address)
            await asyncio.sleep(0)
        if self.service is not None:
            await self.service.close()
            self.service = None
        if self.peripheral is not None:
            await self.peripheral.close()
            self.peripheral = None
        self._staging.clear()

    async def _boot(self) -> None:
        stored = self.flash.load_watch()
        self.record = WatchRecord(self.address, stored.boot_id + 1, stored.local_time)
        self.flash.save_watch(self.record)
        self.boot_id = self.record.boot_id
        self._seq = 0
        self._boot_at = self.clock.now_ms()
        self._program = self.flash.load_program()
        self._wire = None if self._program is None else decode_program(self._program)
        self.log, marker = self.flash.load_log(self.event_capacity)
        self._marker = None
        if marker is not None:
            # The previous boot ended during a session (§8.2).
            self._record_at(
                EventKind.SESSION_ABORTED,
                marker,
                marker.session_ms,
                self._boot_at,
                entry=marker.entry,
            )
        self.service = self.service_class(self, self.flash)
        self.peripheral = await start_peripheral(
            self.link,
            name=self.name,
            services=self.service.services,
            service_uuids=[str(U.TIMER_SERVICE)],
            address=self.address,
            advertising_interval_ms=self.advertising_interval_ms,
            keystore=self.flash.keystore(),
        )
        self.service.attach(self.peripheral.device, self.peripheral.connections)
        self._plan_reminder()
        self.peripheral.device.on("connection", self._watch_encryption)
        self._nonce = secrets.randbelow(0x10000)
        self._beacon_last = None
        await self._update_beacon()
        logger.info("%s booted: boot %d, address %s", self.name, self.boot_id, self.address)
        start_after = self.wearer.start_after_ms
        if start_after is not None and not self._wearer_started:
            at = self._boot_at + start_after
            self._wearer_start = self.clock.call_at(at, self._wearer_presses_start)

    def _wearer_presses_start(self) -> None:
        self._wearer_start = None
        if self._wire is None or self.runner.state is not SessionState.IDLE:
            return  # tried again when a program is committed
        self._wearer_started = True
        logger.info("the wearer presses start")
        self._start(0)

    # -- TimerBackend: what the GATT service asks ------------------------------------------

    def timer_info(self, connection: Connection | None) -> TimerInfo:
        """The Timer Info value now (§4); STAGING for ``connection`` (any, if ``None``)."""
        now = self.clock.now_ms()
        flags = InfoFlags(0)
        utc = self._utc_at(now)
        if utc is not None:
            flags |= InfoFlags.CLOCK_SET
        if self.log.lost:
            flags |= InfoFlags.EVENTS_LOST
        if connection in self._staging or (connection is None and self._staging):
            flags |= InfoFlags.STAGING
        return TimerInfo(
            features=self.features,
            flags=flags,
            max_program_length=self.max_program_length,
            event_capacity=self.event_capacity,
            unacked_events=min(len(self.log.events), 0xFFFF),
            boot_id=self.boot_id,
            uptime_s=_u32((now - self._boot_at) // 1000),
            clock_s=0 if utc is None else _u32(int(utc.timestamp())),
            program_length=0 if self._program is None else len(self._program),
            program_identity=self.committed_identity or bytes(16),
        )

    def stage(self, connection: Connection, chunk: ProgramChunk) -> None:
        """A Program write (§6.2)."""
        staging = self._staging.get(connection, Staging())
        self._staging[connection] = staging.accept(chunk, max_length=self.max_program_length)

    def control(self, connection: Connection, request: ControlRequest) -> None:
        """A Control Point request (§7); REPLAY_EVENTS is the GATT layer's."""
        match request:
            case Commit(crc32=crc):
                self._commit(connection, crc)
            case AbortStaged():
                self._staging.pop(connection, None)
            case StartSession(identity=identity):
                self._start_named(identity, 0)
            case StartEntry(identity=identity, entry=entry):
                self._start_named(identity, entry)
            case StopSession():
                self.runner.stop()
            case PauseSession():
                self.runner.pause()
            case ResumeSession():
                self.runner.resume()
            case AckEvents(boot_id=boot_id, seq=seq):
                removed = self.log.ack(boot_id, seq)
                self._save_log_soon()
                self.flush_log()  # an acknowledgement is final: persist it before answering
                self._beacon_soon()
                logger.info("acknowledged up to (%d, %d): %d removed", boot_id, seq, removed)
            case _:
                raise AttError(AttErrorCode.OPCODE_NOT_SUPPORTED)

    def _start_named(self, identity: bytes, entry: int) -> None:
        # The order of the checks is §7.7's.
        if self._wire is None:
            raise AttError(AttErrorCode.NO_PROGRAM)
        if identity != self.committed_identity:
            raise AttError(AttErrorCode.PROGRAM_MISMATCH)
        self._start(entry)

    def _start(self, entry: int) -> None:
        assert self._wire is not None
        self.runner.start(self._wire, entry)
        local = self._local_now()
        if local is not None:
            self._started[entry] = local

    def _commit(self, connection: Connection, crc: int) -> None:
        # Every COMMIT discards the staging, whatever the outcome (§6.2).
        staging = self._staging.pop(connection, Staging())
        if self.runner.state is not SessionState.IDLE:
            raise AttError(AttErrorCode.SESSION_ACTIVE)
        formats = (1, 2) if self.features & Feature.ENTRIES else (1,)
        program, wire = staging.commit(crc, formats)
        if program != self._program:
            # Durable before the Write Response goes out (§6.3, §6.4).
            self.flash.save_program(program)
            self._program, self._wire = program, wire
            self._plan_reminder()
        logger.info("committed program %s", program_identity(program).hex())
        self._beacon_soon()
        if self._wearer_start is None and self._wants_to_start():
            self._wearer_start = self.clock.call_at(self.clock.now_ms(), self._wearer_presses_start)

    def _wants_to_start(self) -> bool:
        start_after = self.wearer.start_after_ms
        return (
            start_after is not None
            and not self._wearer_started
            and self.clock.now_ms() >= self._boot_at + start_after
        )

    def session_status(self) -> SessionStatusValue:
        """The Session Status value now (§8.1)."""
        return self.runner.status()

    def backlog(self) -> Sequence[EventRecord]:
        """The unacknowledged events, oldest first."""
        return self.log.events

    def current_time(self) -> CurrentTime:
        """Current Time: the local time, or unknown fields while the clock is not set."""
        utc = self.utc
        if utc is None:
            return CurrentTime(0, 0, 0, 0, 0, 0)
        offset = self.record.local_time.utc_offset or timedelta(0)
        local = (utc + offset).replace(tzinfo=None)
        return CurrentTime.from_datetime(local, AdjustReason(0))

    def local_time(self) -> LocalTimeInformation:
        """The Local Time Information last written."""
        return self.record.local_time

    def set_local_time(self, value: LocalTimeInformation) -> None:
        """Keep the time zone for the next Current Time write (§10.2)."""
        self.record = WatchRecord(self.record.address, self.record.boot_id, value)
        self.flash.save_watch(self.record)
        self._plan_reminder()  # the local offset moved: so do the planned times (§5.9)

    def set_utc(self, utc: datetime) -> None:
        """Set the watch's UTC clock to aware ``utc`` (what a Current Time write does)."""
        epoch_ms = (utc - _EPOCH) // timedelta(milliseconds=1)
        self._utc_offset_ms = epoch_ms - self.clock.now_ms()
        logger.info("clock set to %s", utc.isoformat())
        if self.service is not None:
            self._plan_reminder()
        self._beacon_soon()

    def connection_closed(self, connection: Connection) -> None:
        """A link went down: its staging is discarded (§6.2)."""
        self._staging.pop(connection, None)

    # -- SessionHost: what the timer reports ----------------------------------------------

    def on_session_event(self, kind: EventKind, step: Step, duration_ms: int, at_ms: int) -> None:
        """Record an event of the running session."""
        self._record_at(kind, step, duration_ms, at_ms)

    def on_session_status(self, status: SessionStatusValue) -> None:
        """Notify Session Status."""
        self._beacon_soon()
        if self.service is not None:
            self.service.notify_status(status)

    def on_session_marker(self, marker: SessionMarker | None) -> None:
        """Persist where the session is."""
        self._marker = marker
        self._save_log_soon()

    def watch_time(self, at_ms: int) -> tuple[int, datetime | None]:
        """Uptime and UTC at clock time ``at_ms``."""
        return at_ms - self._boot_at, self._utc_at(at_ms)

    # -- events and time ------------------------------------------------------------------

    # -- reminders (§5.9) -----------------------------------------------------------------

    def _local_now(self) -> datetime | None:
        """Local wall time on the watch's offset (naive), or None while the clock is unset."""
        utc = self.utc
        if utc is None:
            return None
        offset = self.record.local_time.utc_offset or timedelta(0)
        return (utc + offset).replace(tzinfo=None)

    def _due(self) -> tuple[datetime, list[PlannedTime]] | None:
        """The local time now and the next planned times of the committed plan (§5.9), or None
        without ENTRIES, a plan or a set clock."""
        plan = None if self._wire is None else self._wire.plan
        local = self._local_now()
        if plan is None or local is None or not self.features & Feature.ENTRIES:
            return None
        due = next_after(plan, local)
        return (local, due) if due else None

    def next_reminder(self) -> tuple[datetime, tuple[str, ...]] | None:
        """When the watch reminds next, as its local wall time (naive), and what it will show
        (the routine's title or the exercises' names, §5.9); None without a plan or a clock."""
        found = self._due()
        if found is None or self._wire is None:
            return None
        due = found[1]
        return due[0].local, tuple(_entry_shown(self._wire, p.entry)[1] for p in due)

    def _cancel_reminder(self) -> None:
        if self._reminder is not None:
            self._reminder.cancel()
            self._reminder = None

    def _plan_reminder(self) -> None:
        """Arm the clock for the next planned time of the committed plan, if any."""
        self._cancel_reminder()
        found = self._due()
        if found is None:
            return
        local, due = found
        delay_ms = (due[0].local - local) // timedelta(milliseconds=1)
        self._reminder = self.clock.call_at(
            self.clock.now_ms() + delay_ms, lambda: self._remind(due)
        )

    def _remind(self, due: list[PlannedTime]) -> None:
        self._reminder = None
        wire = self._wire
        utc = self.utc
        if wire is None or wire.plan is None or utc is None:
            return
        for planned in due:
            started = self._started.get(planned.entry)
            done_early = started is not None and started >= window_start(wire.plan, planned)
            if self.runner.state is SessionState.IDLE and not done_early:
                self._show_reminder(wire, planned, utc)
        self._plan_reminder()

    def _show_reminder(self, wire: WireProgram, planned: PlannedTime, utc: datetime) -> None:
        exercise, title = _entry_shown(wire, planned.entry)
        first = next(s for s in expand(wire) if s.exercise == exercise)
        cue_index = wire.reminder_cue
        if cue_index is not None:
            self.motor.begin_session()
            now = self.clock.now_ms()
            self.motor.play(
                wire.cues[cue_index], session_ms=0, step=None, at_ms=now - self._boot_at, utc=utc
            )
        self.reminders.append(ReminderShown(planned.entry, title, planned.local, utc))
        logger.info("reminder: %s (planned %s)", title, planned.local.isoformat(" "))
        self._record_at(EventKind.REMINDER, first, 0, self.clock.now_ms(), entry=planned.entry)

    # -- events -----------------------------------------------------------------------------

    def _record_at(
        self,
        kind: EventKind,
        where: Step | SessionMarker,
        duration_ms: int,
        at_ms: int,
        *,
        entry: int | None = None,
    ) -> None:
        utc = self._utc_at(at_ms)
        if utc is None:
            time_s, time_ms = divmod(max(at_ms - self._boot_at, 0), 1000)
        else:
            time_s, time_ms = divmod((utc - _EPOCH) // timedelta(milliseconds=1), 1000)
            time_s = _u32(time_s)
        step = where.index if isinstance(where, Step) else where.step
        record = EventRecord(
            boot_id=self.boot_id,
            seq=self._seq,
            time_s=time_s,
            time_ms=time_ms,
            kind=kind,
            clock_set=utc is not None,
            step=step,
            exercise=where.exercise,
            set=where.set,
            rep=where.rep,
            side=where.side,
            direction=where.direction,
            duration_ms=duration_ms,
            entry=(self.runner.entry if entry is None else entry)
            if self.features & Feature.ENTRIES
            else 0,
        )
        self._seq += 1
        self.log.append(record)
        self._save_log_soon()
        logger.debug("event %s", record)
        if self.service is not None:
            self.service.notify_event(record)
        if self.on_event is not None:
            self.on_event(record)
        self._beacon_soon()

    # -- the state beacon (§14) -----------------------------------------------------------

    def beacon_state(self) -> BeaconState:
        """What the beacon says now (§14.2)."""
        return BeaconState(
            program_identity=self.committed_identity or bytes(16),
            events_waiting=bool(self.log.events),
            clock_set=self.utc is not None,
            session=self.runner.state,
        )

    def _watch_encryption(self, connection: Connection) -> None:
        def encrypted() -> None:
            if connection.is_encrypted:
                # The beacon is keyed with the bond that encrypted a link last (§14.2).
                self.flash.write(BEACON_PEER_FILE, str(connection.peer_address).encode())
                self._beacon_last = None
                self._beacon_soon()

        def rekey(*_args: object) -> None:
            # Pairing stores the keys after the link is encrypted: look again once it has.
            self._beacon_last = None
            self._beacon_soon()

        connection.on(Connection.EVENT_CONNECTION_ENCRYPTION_CHANGE, encrypted)
        connection.on(Connection.EVENT_PAIRING, rekey)
        connection.on(Connection.EVENT_DISCONNECTION, rekey)

    def _beacon_soon(self) -> None:
        if Feature.STATE_BEACON not in self.features or self.peripheral is None:
            return
        self._beacon_dirty = True
        if self._beacon_task is None or self._beacon_task.done():
            self._beacon_task = asyncio.get_running_loop().create_task(self._beacon_updates())

    async def _beacon_updates(self) -> None:
        # A change while an update is under way is picked up by the next round.
        while self._beacon_dirty:
            self._beacon_dirty = False
            await self._update_beacon()

    async def _beacon_key(self) -> bytes | None:
        peer = self.flash.read(BEACON_PEER_FILE)
        if peer is None:
            return None
        keys = await self.flash.keystore().get(peer.decode())
        if keys is None or keys.ltk is None or len(keys.ltk.value) != LTK_SIZE:
            return None  # the bond is gone: no beacon (§14.2)
        return beacon_key(bytes(keys.ltk.value))

    async def _update_beacon(self, *, rotate: bool = False) -> None:
        """Advertise a new beacon if the state (or the key) changed, or on rotation (§14.3)."""
        peripheral = self.peripheral
        if Feature.STATE_BEACON not in self.features or peripheral is None:
            return
        key = await self._beacon_key()
        if key is None:
            beacon = None
        else:
            state = self.beacon_state()
            if not rotate and self._beacon_last == (key, state):
                return
            self._beacon_last = (key, state)
            self._nonce = (self._nonce + 1) & 0xFFFF
            beacon = seal(key, self._nonce, state).manufacturer_data()
        if self._beacon_rotation is not None:
            self._beacon_rotation.cancel()
        self._beacon_rotation = self.clock.call_at(
            self.clock.now_ms() + ROTATION_S * 1000, self._rotate_beacon
        )
        if beacon != self.beacon or rotate:
            self.beacon = beacon
            await peripheral.set_advertising_data(
                build_advertising_data([str(U.TIMER_SERVICE)], beacon)
            )

    def _rotate_beacon(self) -> None:
        self._beacon_rotation = None
        if self.peripheral is not None:
            asyncio.get_running_loop().create_task(self._update_beacon(rotate=True))

    def _save_log_soon(self) -> None:
        # Rewriting the whole log per event made long runs quadratic (10,000 events took
        # minutes); like a watch that batches flash writes, save at most every 20 ms, and at
        # once before anything that could lose the difference (shut-down, acknowledgement).
        if self._log_flush is None:
            loop = asyncio.get_running_loop()
            self._log_flush = loop.call_later(LOG_FLUSH_S, self.flush_log)

    def flush_log(self) -> None:
        """Write the event log and session marker to flash now, if anything is pending."""
        if self._log_flush is not None:
            self._log_flush.cancel()
            self._log_flush = None
            self.flash.save_log(self.log, self._marker)

    def _utc_at(self, at_ms: int) -> datetime | None:
        if self._utc_offset_ms is None:
            return None
        return _EPOCH + timedelta(milliseconds=at_ms + self._utc_offset_ms)


def _u32(value: int) -> int:
    """``value`` kept within a u32 field: a clock set before 1970 or after 2106 saturates."""
    return min(max(value, 0), _U32)


def _entry_shown(wire: WireProgram, entry: int) -> tuple[int, str]:
    """The exercise index entry ``entry`` starts at and what its reminder shows (§5.9): the
    program's title for the whole routine, the exercise's name for an entry."""
    if not entry:
        return 0, wire.title
    assert wire.plan is not None
    exercise = wire.plan.entries[entry - 1].exercise
    return exercise, wire.exercises[exercise].name
