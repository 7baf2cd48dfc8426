"""The Bangle.js driver: sync and live sessions with a watch-side runner over Nordic UART.

A sync, in the order that loses nothing (see :mod:`wearsync.watches.bangle.codec` for the lines):

1. Lock the watch and connect (no pairing); subscribe to what it prints.
2. Handshake: ask the runner who it is and, in the same write, probe the REPL. A watch with
   *Programmable* off answers only the runner's ``GB(...)`` commands, so no answer to the probe
   is :class:`~wearsync.watches.bangle.codec.ProgrammableOffError`, raised before anything is
   written when the runner must be (re)installed or the profile requires Programmable.
3. Set the watch's clock and time zone (every connection, which keeps DST changes right).
4. Replay the runner's stored events, store them (one transaction, exactly once), and only then
   acknowledge them. A dump that arrives damaged is stored as far as it is whole and not
   acknowledged, so the next sync gets it again.
5. Upload the runner only if the watch runs another program or runner version, or the same
   program with another plan (the schedule the watch reminds by, from the schedule's first day,
   :func:`watch_plan`; the runtime reports the CRC-32 of the data it loaded): Storage writes,
   a CRC-32 check, then the install line. An upload cut midway leaves a file whose last byte is
   still erased flash, which the boot file refuses to run; the next sync uploads it again.
6. Remember the push under :func:`~wearsync.sync.watch_link.program_key`, the key the runner's
   events carry, and re-derive the watch's sessions.

A session (:meth:`BangleDriver.mirror`) starts the whole routine or one entry
(``SessionOptions.entry``, an exercise done several times a day); every event the runtime
prints carries its entry, stored as :attr:`StoredEvent.entry`. Reminders need no companion:
the watch plays them from the plan and records ``reminder`` events, collected by the next sync.

No bytes and no bleak here: lines are built by :mod:`wearsync.watches.bangle.codec` and travel
through :class:`~wearsync.watches.bangle.client.UartClient`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Final, Literal

from pydantic import Field

from wearsync.ble.connection import FoundWatch, connect
from wearsync.ble.errors import BleTimeoutError, LinkLostError
from wearsync.errors import WearSyncError
from wearsync.profiles import DriverSettings
from wearsync.records import StoredEvent, utc_now
from wearsync.routine.compiler import TimerProgram
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import ROUTINE_ENTRY, entry_ids
from wearsync.store import Store
from wearsync.sync.driver import (
    Capabilities,
    Collected,
    Driver,
    HeldWatch,
    SessionOptions,
    SessionOutcome,
    SessionStartError,
    SyncContext,
    SyncOutcome,
    program_key,
)
from wearsync.sync.first_day import fix_first_day
from wearsync.sync.live import LiveUpdate
from wearsync.sync.programs import ProgramLookup
from wearsync.sync.reports import Progress, SyncError
from wearsync.sync.sessions import END_KINDS
from wearsync.watches.bangle.client import GarbledReplyError, UartClient
from wearsync.watches.bangle.codec import (
    HELLO_PROBE,
    RUNNER_VERSION,
    Ack,
    DumpDone,
    Event,
    Hello,
    Identity,
    ProgrammableOffError,
    Reply,
    RunnerState,
    Upload,
    VerifyResult,
    WatchError,
    ack_commands,
    check_verify,
    clock_commands,
    dump_command,
    identify_command,
    plan_uploads,
    program_data,
    start_command,
)
from wearsync.watches.bangle.plan import BanglePlan, bangle_plan

log = logging.getLogger(__name__)

#: How long to wait for the REPL's answer to the probe (it answers at once when it can).
HELLO_TIMEOUT_S: Final = 2.0
#: How long to wait for an answer to a dump, an acknowledgement or the upload's check.
REPLY_TIMEOUT_S: Final = 15.0
#: Events asked for per dump.
DUMP_BATCH: Final = 64
_MAX_DUMPS: Final = 200


class RunnerInstallError(WearSyncError):
    """The watch refused to load the uploaded runner."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the Bangle.js did not load the uploaded runner ({detail})",
            hint="stay close to the watch and sync again; if it persists, restart the watch",
        )


class BangleLink:
    """A connected Bangle.js with the store beside it: what a sync and a session share.

    Args:
        uart: the line transport, started.
        store: where events go.
        watch: the watch (its profile's driver must be ``espruino-uart``).
        program: the compiled program to run on it.
        progress: progress messages.
    """

    def __init__(
        self,
        uart: UartClient,
        store: Store,
        watch: FoundWatch,
        program: TimerProgram,
        progress: Progress,
        settings: EspruinoSettings,
    ) -> None:
        self.uart = uart
        self.store = store
        self.watch = watch
        self.program = program
        self.say = progress
        self.settings = settings
        self.lookup = ProgramLookup(store)
        self._requests = itertools.count(1)

    def runs_program(self, identity: Identity | None, data: str) -> bool:
        """Whether the watch's runner already runs this program, as ``data`` (its plan and
        first day included), with this runner version."""
        return (
            identity is not None
            and identity.program_hash == self.program.content_hash
            and identity.runner_version == RUNNER_VERSION
            and identity.data_crc == zlib.crc32(data.encode("ascii"))
        )

    async def handshake(self) -> tuple[Identity | None, Hello | None]:
        """Ask the runner who it is and probe the REPL, in one write.

        The watch answers lines in order, so once the probe's answer is in, the runner's (if
        there is one) came before it. Only with Programmable off does this wait the full
        :data:`HELLO_TIMEOUT_S`.
        """
        req = self.next_request()
        rejected = self.uart.rejected_lines
        await self.uart.send([identify_command(req), HELLO_PROBE])
        identity: Identity | None = None
        hello: Hello | None = None
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                while hello is None:
                    message = await self.uart.next_message()
                    if isinstance(message, Identity) and message.req == req:
                        identity = message
                    elif isinstance(message, Hello):
                        hello = message
        except TimeoutError:
            pass
        if hello is None and identity is None and self.uart.rejected_lines > rejected:
            raise GarbledReplyError(
                "the handshake", self.uart.rejected_lines - rejected, address=self.watch.address
            )
        return identity, hello

    async def set_clock(self, routine: Routine) -> None:
        """Set the watch's clock and time zone (the routine's zone) to now."""
        await self.uart.send(clock_commands(utc_now(), routine.schedule.zone))

    async def collect(self) -> Collected:
        """Replay the stored events, store them, then acknowledge them, until none are left.

        Raises:
            GarbledReplyError: part of a dump arrived damaged (what was whole is stored, and
                nothing of that dump is acknowledged).
        """
        total = Collected()
        for _ in range(_MAX_DUMPS):
            got, left = await self._collect_once()
            total += got
            if left == 0 or got.received == 0:
                break
        return total

    def next_request(self) -> int:
        """A fresh request id, echoed back in the answer."""
        return next(self._requests)

    async def _replay(self) -> tuple[list[Event], DumpDone, int]:
        """Ask for a dump: ``(replayed events, its end, malformed lines meanwhile)``."""
        req = self.next_request()
        rejected = self.uart.rejected_lines
        await self.uart.send([dump_command(DUMP_BATCH, req=req)])
        replayed: list[Event] = []
        try:
            async with asyncio.timeout(REPLY_TIMEOUT_S):
                while True:
                    message = await self.uart.next_message()
                    if isinstance(message, Event) and message.replayed:
                        replayed.append(message)
                    elif isinstance(message, DumpDone) and message.req == req:
                        return replayed, message, self.uart.rejected_lines - rejected
        except TimeoutError:
            pass
        garbled = self.uart.rejected_lines - rejected
        if garbled:
            raise GarbledReplyError("the event dump", garbled, address=self.address)
        raise BleTimeoutError(
            f"the watch did not answer the event dump within {REPLY_TIMEOUT_S:g} s",
            operation="the event dump",
            timeout=REPLY_TIMEOUT_S,
            address=self.address,
        )

    async def _collect_once(self) -> tuple[Collected, int]:
        replayed, done, garbled = await self._replay()
        records, unusable = self._to_stored(replayed)
        new = self.store.add_events(records)  # committed when this returns
        if len(replayed) < done.sent:
            # Lines lost or garbled on the way: keep what came whole, acknowledge nothing, so
            # the next sync replays the rest.
            raise GarbledReplyError(
                "the event dump", max(garbled, done.sent - len(replayed)), address=self.address
            )
        if unusable:
            log.warning(
                "%s: %d event(s) the watch recorded cannot be stored", self.address, unusable
            )
        acked = await self._ack(replayed)
        return Collected(len(records), new, acked), done.left

    async def _ack(self, events: list[Event]) -> str | None:
        if not events:
            return None
        lines = ack_commands(events)
        await self.uart.send(lines)
        newest: dict[int, int] = {}
        for event in events:
            newest[event.boot] = max(event.seq, newest.get(event.boot, -1))
        # In the order ack_commands sends them (by boot id): the watch answers in order, and
        # waiting for one passes over (drops) the answers before it.
        for boot, seq in sorted(newest.items()):
            await self.uart.require(
                Ack, _acks(boot, seq), within=REPLY_TIMEOUT_S, operation="the acknowledgement"
            )
        last = events[-1]
        return f"{last.boot}/{last.seq}"

    @property
    def address(self) -> str:
        """The watch's address."""
        return self.watch.address

    def _to_stored(self, events: list[Event]) -> tuple[list[StoredEvent], int]:
        records: list[StoredEvent] = []
        unusable = 0
        for event in events:
            try:
                records.append(self.stored(event))
            except (ValueError, OverflowError) as exc:
                # Well-formed JSON whose numbers no record can hold: the watch made it, so
                # asking again would give the same; it is dropped (and acknowledged).
                unusable += 1
                log.debug("%s: unusable event %r: %s", self.address, event, exc)
        return records, unusable

    def stored(self, event: Event) -> StoredEvent:
        """The stored record of an event the runner printed.

        Raises:
            ValueError: a field is out of a record's range (pydantic's ValidationError).
            OverflowError: its time is outside what a datetime holds.
        """
        program = self.lookup(event.program)
        step = (
            program.steps[event.step]
            if program is not None and event.step < len(program.steps)
            else None
        )
        # An entry runs one exercise, and a reminder names the entry's exercise: its id is
        # the entry's (wearsync.routine.occurrences).
        entry = ROUTINE_ENTRY
        if event.entry:
            entry = (
                program.exercises[event.exercise].id
                if program is not None and event.exercise < len(program.exercises)
                else f"entry-{event.entry}"
            )
        return StoredEvent(
            device=self.address,
            boot_id=event.boot,
            seq=event.seq,
            at=event.at,
            time_known=True,
            kind=event.kind,
            exercise=event.exercise,
            set=event.set,
            rep=event.rep,
            side=event.side,
            direction=step.direction.value if step is not None else "none",
            step=event.step,
            duration_ms=event.duration_ms,
            program_hash=event.program,
            entry=entry,
        )

    async def install(self, identity: Identity | None, data: str) -> Identity:
        """Upload what the watch lacks (the runtime, the program data), check it, make it
        live; returns the runtime's identity afterwards.

        Raises:
            RunnerBusyError: the watch is in a session.
            SyncError: the program is larger than the profile allows.
            UploadVerifyError: the file on the watch differs from the one sent.
            RunnerInstallError: the watch would not load it.
        """
        uploads = plan_uploads(identity, self.program.content_hash, data, self.uart.mtu)
        limit = self.watch.profile.limits.max_program_bytes or 0
        if len(data) > limit:
            raise SyncError(
                f"the program is {len(data)} bytes, the profile allows {limit}",
                hint="shorten the routine or raise limits.max_program_bytes in the profile",
            )
        answer: Identity | None = identity
        for upload in uploads:
            answer = await self._upload(upload)
        if answer is None or not self.runs_program(answer, data):
            reported = answer.program_hash[:12] if answer is not None else "nothing"
            raise RunnerInstallError(f"it reports program {reported}")
        return answer

    async def _upload(self, upload: Upload) -> Identity:
        self.say(f"uploading the {upload.what} ({len(upload.content)} bytes)")
        # One line per write sequence: every Storage write runs before the next one starts.
        await self.uart.send(list(upload.writes), packed=False)
        await self.uart.send([upload.verify])
        result = await self.uart.require(
            VerifyResult,
            lambda r: r.file == upload.file,
            within=REPLY_TIMEOUT_S,
            operation="the upload check",
        )
        check_verify(result, upload.content)
        await self.uart.send([upload.finish])
        answer = await self.uart.require_first(
            lambda m: (
                (isinstance(m, Identity) and m.req is None)
                or (isinstance(m, WatchError) and m.command == "install")
            ),
            within=REPLY_TIMEOUT_S,
            operation=f"the {upload.what}'s installation",
        )
        if isinstance(answer, WatchError):
            raise RunnerInstallError(answer.error)
        assert isinstance(answer, Identity)
        return answer

    async def prepare(
        self, routine: Routine, routine_text: str, data: str
    ) -> tuple[Identity, Collected, bool]:
        """Handshake, clock, backlog, runner, in that order (see the module docstring).

        Returns:
            ``(identity, collected, uploaded)``: the runner's identity after the sync.
        """
        identity, hello = await self.handshake()
        upload = not self.runs_program(identity, data)
        if hello is None and (upload or self.settings.requires_programmable):
            raise ProgrammableOffError()
        if hello is not None:
            self.say("setting the watch's clock")
            await self.set_clock(routine)
        collected = Collected()
        if identity is not None and identity.unacked:
            self.say(f"reading back events ({identity.unacked} waiting)")
            collected = await self.collect()
        if upload:
            identity = await self.install(identity, data)
            if identity.unacked:
                collected += await self.collect()
        assert identity is not None
        self.store.record_push(self.address, program_key(self.program), routine.name, routine_text)
        return identity, collected, upload


def _acks(boot: int, seq: int) -> Callable[[Ack], bool]:
    return lambda ack: ack.boot == boot and ack.seq == seq


def _running_boot(identity: Identity | None) -> int | None:
    if identity is None or identity.state not in (RunnerState.RUNNING, RunnerState.PAUSED):
        return None
    return identity.boot


class EspruinoSettings(DriverSettings):
    """The ``[driver]`` table of an ``espruino-uart`` profile (a Bangle.js)."""

    name: Literal["espruino-uart"]
    app_id: Annotated[str, Field(pattern=r"^[a-z0-9]{1,12}$")]
    """The watch-side app that runs the timer and prints events back."""
    requires_programmable: bool = False
    """Whether the watch's "Programmable" setting must be on for the upload."""


class BangleDriver(Driver):
    """Bangle.js watches: a runner uploaded over Nordic UART times the cues on the watch."""

    name = "espruino-uart"
    capabilities = Capabilities(
        cues="watch",
        start_from_companion=True,
        start_on_watch=True,  # from the app's menu, any entry (docs/bangle.md)
        event_readback=True,
        clock=True,
    )

    def __init__(self, settings: EspruinoSettings) -> None:
        self.settings = settings

    @asynccontextmanager
    async def connected(self, ctx: SyncContext, held: HeldWatch) -> AsyncIterator[BangleLink]:
        """Connect and subscribe: a :class:`BangleLink` ready for commands (no pairing)."""
        async with connect(ctx.watch, hci=ctx.hci, disconnected=held.link_lost) as client:
            uart = UartClient(client, address=ctx.address)
            held.on_lost(uart.link_lost)
            await uart.start()
            yield BangleLink(uart, ctx.store, ctx.watch, ctx.program, ctx.progress, self.settings)

    async def exchange(self, ctx: SyncContext, held: HeldWatch) -> SyncOutcome:
        """Sync with a Bangle.js and read back what was done (see the module docstring).

        Raises:
            ProgrammableOffError: the watch's Programmable setting is off; nothing was written.
            RunnerBusyError: the watch is in a session with another program.
            UploadVerifyError, RunnerInstallError: the upload arrived damaged (sync again).
            GarbledReplyError: the watch answered with malformed lines.
        """
        data = program_data(ctx.program, watch_plan(ctx))
        async with self.connected(ctx, held) as bangle:
            identity, collected, uploaded = await bangle.prepare(
                ctx.routine, ctx.routine_text, data
            )
            return SyncOutcome(
                program_identity=program_key(ctx.program),
                program_bytes=len(data),
                program_pushed=uploaded,
                clock_set=True,
                events_received=collected.received,
                events_new=collected.new,
                acked_through=collected.acked_through,
                rejected_notifications=bangle.uart.rejected_lines,
                running_boot=_running_boot(identity),
            )

    async def mirror(
        self, ctx: SyncContext, options: SessionOptions, held: HeldWatch
    ) -> SessionOutcome:
        """Sync, start the session on the watch, mirror its events live, then store them.

        The watch times the session by itself; this side only listens. If the link drops, the
        events seen live are stored (not acknowledged: the next sync collects and acknowledges
        them), and the watch carries on alone.
        """
        plan = watch_plan(ctx)
        entry = _entry_number(ctx, plan, options.entry)
        data = program_data(ctx.program, plan)
        async with self.connected(ctx, held) as bangle:
            identity, _collected, uploaded = await bangle.prepare(
                ctx.routine, ctx.routine_text, data
            )
            mirror = _Mirror(bangle, options.on_update, entry)
            bangle.uart.on_event(mirror.on_event)
            try:
                ended = await mirror.run(
                    start=options.start,
                    identity=identity,
                    silence_timeout=options.silence_timeout,
                )
            finally:
                # What was seen live is stored whatever happens (not acknowledged: the next
                # sync collects it from the watch and acknowledges it).
                mirror.active = False
                new = ctx.store.add_events(mirror.records)
            # Unless it ended, the watch may still be running the session (out of reach, or
            # paused longer than the silence allowed): it stays in progress until a sync
            # learns more.
            running = None if ended in END_KINDS else mirror.boot
            if ended != "link_lost":
                ctx.progress("reading back the session's events")
                new += (await bangle.collect()).new
        return SessionOutcome(
            program_pushed=uploaded,
            ended=ended,
            steps_seen=mirror.steps_seen,
            events_seen=len(mirror.records),
            events_new=new,
            running_boot=running,
        )


def watch_plan(ctx: SyncContext) -> BanglePlan:
    """The plan the watch reminds by: the routine's schedule from its first day (fixed on
    first use, the one the calendar and adherence count from)."""
    return bangle_plan(ctx.routine, ctx.program, fix_first_day(ctx.store, ctx.routine, utc_now()))


def _entry_number(ctx: SyncContext, plan: BanglePlan, entry: str | None) -> int:
    """The watch's number of ``entry`` (None: the whole routine, 0).

    Raises:
        SessionStartError: the routine has no such entry.
    """
    number = plan.number_of(entry)
    if number is None:
        raise SessionStartError(
            f"{ctx.routine.name} has no entry {entry!r}",
            hint=f"entries: {', '.join(entry_ids(ctx.routine))} (exercises done several "
            "times a day)",
        )
    return number


class _Mirror:
    """Hands every live event to the display and keeps it for the store."""

    def __init__(
        self, bangle: BangleLink, on_update: Callable[[LiveUpdate], None], entry: int = 0
    ) -> None:
        self.bangle = bangle
        self.entry = entry
        self.on_update = on_update
        self.records: list[StoredEvent] = []
        self.steps_seen = 0
        self.boot: int | None = None
        self.active = True
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_event(self, event: Event) -> None:
        if not self.active:
            return  # replayed after the session: stored by the dump, not news to show
        try:
            record = self.bangle.stored(event)
        except (ValueError, OverflowError):
            return
        self.records.append(record)
        if event.kind == "session_started":
            self.boot = event.boot
        if event.kind == "step_started":
            self.steps_seen += 1
        self.on_update(LiveUpdate.of(record, self.bangle.lookup(event.program)))
        if event.kind in END_KINDS and not self.ended.done():
            self.ended.set_result(event.kind)

    async def run(self, *, start: bool, identity: Identity, silence_timeout: float) -> str:
        uart = self.bangle.uart
        try:
            if start:
                await self._start(identity)
            while not self.ended.done():
                try:
                    async with asyncio.timeout(silence_timeout):
                        await uart.next_message()
                except TimeoutError:
                    return "silent"
        except LinkLostError:
            return "link_lost"
        return self.ended.result()

    async def _start(self, identity: Identity) -> None:
        if identity.state != RunnerState.IDLE:
            log.info("a session is already running on the watch; mirroring it")
            self.boot = identity.boot
            return
        req = self.bangle.next_request()
        await self.bangle.uart.send([start_command(req=req, entry=self.entry)])
        answer = await self.bangle.uart.require_first(
            lambda m: isinstance(m, Reply | WatchError) and m.req == req,
            within=REPLY_TIMEOUT_S,
            operation="the start command",
        )
        if isinstance(answer, WatchError) and answer.error != "busy":
            raise SyncError(f"the watch refused to start the session: {answer.error}")
