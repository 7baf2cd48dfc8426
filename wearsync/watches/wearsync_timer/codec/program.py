"""The structural timer program: its values and its byte codec (``docs/protocol.md`` §5).

A compiled :class:`~wearsync.routine.TimerProgram` is a flat list of some eighty steps for the
foot routine; on the wire it travels as one record per exercise that describes the loops
(sides x sets x reps x directions) the steps come from, plus a cue table. The watch unrolls
those loops itself with the rules of §5.6 (see :mod:`wearsync.watches.wearsync_timer.codec.expand`).

The encoding is canonical (§5.5): for every byte string :meth:`WireProgram.from_bytes`
accepts, ``bytes(WireProgram.from_bytes(b)) == b``, so a program's identity (§5.7) is a
function of the program alone.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Final, Self

from wearsync.protocol.errors import UnsupportedVersionError
from wearsync.protocol.wire import U16_MAX, U32_MAX, Reader, Writer, build, check, check_uint
from wearsync.routine.compiler import StepKind
from wearsync.routine.model import Direction, Side
from wearsync.watches.wearsync_timer.codec.plan import WirePlan

#: The program format without a plan section (§5.2).
PROGRAM_FORMAT: Final = 1
#: The program format with a plan section: entries and schedule (§3.4, §5.8).
PROGRAM_FORMAT_PLAN: Final = 2
PROGRAM_FORMATS: Final = (PROGRAM_FORMAT, PROGRAM_FORMAT_PLAN)
#: The cue reminders play (§5.9); from format 2 on a well-known name (table 5-2).
REMINDER_CUE: Final = "reminder"
_REMINDER_REF: Final = 0x0B
#: Longest title or exercise name, in UTF-8 bytes (§5.1.3).
MAX_NAME_BYTES: Final = 32
#: Length of a program identity (§5.7).
IDENTITY_SIZE: Final = 16
#: Step indices are u16 in events and status, so a program has at most this many steps (§5.5).
MAX_STEPS: Final = U16_MAX
#: Longest step duration (§5.1.2): 2**31 - 1 ms, about 24.8 days, so both forms fit a u32 varint.
MAX_DURATION_MS: Final = 0x7FFF_FFFF
#: A cue name as the routine model allows it (§5.3).
_CUE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_NO_CUE: Final = 0xFF


class CueSlot(IntEnum):
    """The moments a step plays a cue, numbered as on the wire (§5.3, table 5-2).

    The names are the routine model's cue slots; a cue table entry with a well-known name is
    the default cue of the slot of that name.
    """

    PREPARE = 0
    HOLD_START = 1
    HOLD_END = 2
    WORK_START = 3
    REST_START = 4
    SET_REST = 5
    SWITCH_SIDE = 6
    DIRECTION_CHANGE = 7
    TRANSITION = 8
    COUNTDOWN = 9
    SESSION_END = 10

    @property
    def cue_name(self) -> str:
        """The slot's name, which is also the name of its default cue."""
        return self.name.lower()


_SLOT_BY_NAME: Final = {slot.cue_name: slot for slot in CueSlot}

# Table 5-4: two-bit codes of sides and directions.
SIDE_CODES: Final = {Side.BOTH: 0, Side.LEFT: 1, Side.RIGHT: 2}
DIRECTION_CODES: Final = {Direction.NONE: 0, Direction.CLOCKWISE: 1, Direction.COUNTERCLOCKWISE: 2}
_SIDES: Final = {v: k for k, v in SIDE_CODES.items()}
_DIRECTIONS: Final = {v: k for k, v in DIRECTION_CODES.items()}


class ExerciseFlags(IntFlag):
    """Bits of an exercise record's flags byte (§5.4, table 5-3)."""

    EFFORT_WORK = 0x01
    HAS_LEAD = 0x02
    LEAD_TRANSITION = 0x04
    HAS_AFTER = 0x08
    AFTER_REST = 0x10
    AFTER_EACH_DIRECTION = 0x20
    AFTER_SKIP_LAST = 0x40
    HAS_SWITCH = 0x80


# Bits of a cue entry's shape byte (§5.3, table 5-1).
_SHAPE_COUNT: Final = 0x0F
_SHAPE_WIDE: Final = 0x10
_SHAPE_HAS_STRENGTH: Final = 0x20


def _check_name(field: str, text: str) -> None:
    check(isinstance(text, str), f"{field} must be a string")
    check(len(text.encode("utf-8")) <= MAX_NAME_BYTES, f"{field} exceeds {MAX_NAME_BYTES} bytes")


def _check_ms(field: str, value: int) -> None:
    check_uint(field, value, MAX_DURATION_MS, minimum=1)


@dataclass(frozen=True)
class WireCue:
    """One cue table entry: a vibration pattern and the name it goes by (§5.3).

    Attributes:
        name: the cue's name; a slot name (``hold_start``) travels as one byte.
        pattern: motor on, off, on, ... times in ms; odd length 1..15, each 10..5000.
        strength: motor strength in percent, 1..100.
    """

    name: str
    pattern: tuple[int, ...]
    strength: int = 100

    def __post_init__(self) -> None:
        check(
            isinstance(self.name, str) and _CUE_NAME.fullmatch(self.name) is not None,
            f"cue name {self.name!r} must match [a-z][a-z0-9_]{{0,31}}",
        )
        check(
            isinstance(self.pattern, tuple) and 1 <= len(self.pattern) <= 15,
            "a cue pattern has 1..15 times",
        )
        check(len(self.pattern) % 2 == 1, "a cue pattern starts and ends with a motor-on time")
        for t in self.pattern:
            check_uint("cue pattern time", t, 5000, minimum=10)
        check_uint("cue strength", self.strength, 100, minimum=1)

    @property
    def wide(self) -> bool:
        """Whether the pattern needs 16-bit millisecond times rather than 10 ms units."""
        return any(t % 10 or t > 2550 for t in self.pattern)


@dataclass(frozen=True)
class Timed:
    """A step that occurs once where the rules place it: its kind and duration (§5.4)."""

    kind: StepKind
    ms: int

    def __post_init__(self) -> None:
        check(isinstance(self.kind, StepKind), f"step kind must be a StepKind, got {self.kind!r}")
        _check_ms(f"{self.kind.value} duration", self.ms)


_LEAD_KINDS: Final = (StepKind.PREPARE, StepKind.TRANSITION)
_EFFORT_KINDS: Final = (StepKind.HOLD, StepKind.WORK)
_AFTER_KINDS: Final = (StepKind.RELEASE, StepKind.REST)


@dataclass(frozen=True)
class WireExercise:
    """One exercise record: the loops its steps come from (§5.4).

    Attributes:
        name: display name, at most 32 UTF-8 bytes.
        effort: the hold or work step of each repetition and direction.
        sides: the sides worked in order (``(both,)``, ``(left, right)``, ...), 1 or 2.
        directions: the directions of each repetition in order, 1 to 3.
        sets: sets per side, 1..255.
        reps: repetitions per set, 1..65535.
        lead: the prepare or transition step before the exercise, if any.
        after: the release or rest step after efforts, if any.
        after_each_direction: the after step follows every effort, not just a repetition's last.
        after_skip_last: no after step follows the last effort of a set.
        set_rest_ms: the rest before sets 2.., required exactly when ``sets > 1``.
        switch_ms: the switch-side step before the second side, 0 for none.
        countdown_s: countdown ticks at most, before the end of hold, work and rest steps.
        cue_overrides: ``(slot, cue index)`` pairs, slots strictly increasing.
    """

    name: str
    effort: Timed
    sides: tuple[Side, ...] = (Side.BOTH,)
    directions: tuple[Direction, ...] = (Direction.NONE,)
    sets: int = 1
    reps: int = 1
    lead: Timed | None = None
    after: Timed | None = None
    after_each_direction: bool = False
    after_skip_last: bool = False
    set_rest_ms: int = 0
    switch_ms: int = 0
    countdown_s: int = 0
    cue_overrides: tuple[tuple[CueSlot, int], ...] = ()

    def __post_init__(self) -> None:
        _check_name("exercise name", self.name)
        check(self.effort.kind in _EFFORT_KINDS, "the effort step is a hold or work")
        check(self.lead is None or self.lead.kind in _LEAD_KINDS, "lead is prepare or transition")
        check(self.after is None or self.after.kind in _AFTER_KINDS, "after is release or rest")
        check(
            self.after is not None or not (self.after_each_direction or self.after_skip_last),
            "after-step rules need an after step",
        )
        check(
            isinstance(self.sides, tuple)
            and 1 <= len(self.sides) <= 2
            and all(isinstance(s, Side) for s in self.sides)
            and len(set(self.sides)) == len(self.sides),
            "sides are 1 or 2 distinct sides",
        )
        check(
            isinstance(self.directions, tuple)
            and 1 <= len(self.directions) <= 3
            and all(isinstance(d, Direction) for d in self.directions)
            and len(set(self.directions)) == len(self.directions),
            "directions are 1 to 3 distinct directions",
        )
        check_uint("sets", self.sets, 255, minimum=1)
        check_uint("reps", self.reps, U16_MAX, minimum=1)
        if self.sets > 1:
            _check_ms("set rest duration", self.set_rest_ms)
        else:
            check(self.set_rest_ms == 0, "a set rest needs more than one set")
        check_uint("switch-side duration", self.switch_ms, MAX_DURATION_MS)
        check(self.switch_ms == 0 or len(self.sides) == 2, "a switch-side step needs two sides")
        check_uint("countdown seconds", self.countdown_s, 255)
        check(isinstance(self.cue_overrides, tuple), "cue overrides are a tuple")
        slots = [slot for slot, _ in self.cue_overrides]
        check(all(isinstance(s, CueSlot) for s in slots), "override slots must be CueSlot")
        check(slots == sorted(set(slots)), "override slots must be strictly increasing")
        check(len(slots) <= len(CueSlot), "too many overrides")
        for _, cue in self.cue_overrides:
            check_uint("override cue index", cue, 254)

    @property
    def flags(self) -> ExerciseFlags:
        """The record's flags byte (§5.4, table 5-3)."""
        f = ExerciseFlags(0)
        if self.effort.kind is StepKind.WORK:
            f |= ExerciseFlags.EFFORT_WORK
        if self.lead is not None:
            f |= ExerciseFlags.HAS_LEAD
            if self.lead.kind is StepKind.TRANSITION:
                f |= ExerciseFlags.LEAD_TRANSITION
        if self.after is not None:
            f |= ExerciseFlags.HAS_AFTER
            if self.after.kind is StepKind.REST:
                f |= ExerciseFlags.AFTER_REST
        if self.after_each_direction:
            f |= ExerciseFlags.AFTER_EACH_DIRECTION
        if self.after_skip_last:
            f |= ExerciseFlags.AFTER_SKIP_LAST
        if self.switch_ms:
            f |= ExerciseFlags.HAS_SWITCH
        return f

    @property
    def step_count(self) -> int:
        """How many steps the exercise unrolls into (§5.6), computed without unrolling."""
        efforts_per_rep = len(self.directions)
        afters_per_rep = 0
        if self.after is not None:
            afters_per_rep = efforts_per_rep if self.after_each_direction else 1
        per_set = self.reps * (efforts_per_rep + afters_per_rep)
        if self.after_skip_last:
            per_set -= 1
        per_side = self.sets * per_set + (self.sets - 1)
        switches = (len(self.sides) - 1) if self.switch_ms else 0
        return (self.lead is not None) + len(self.sides) * per_side + switches

    @property
    def lead_slot(self) -> CueSlot:
        """The slot of the lead-in step: prepare or transition."""
        if self.lead is not None and self.lead.kind is StepKind.TRANSITION:
            return CueSlot.TRANSITION
        return CueSlot.PREPARE

    @property
    def effort_slot(self) -> CueSlot:
        """The slot of an effort in a repetition's first direction."""
        return CueSlot.WORK_START if self.effort.kind is StepKind.WORK else CueSlot.HOLD_START

    @property
    def after_slot(self) -> CueSlot:
        """The slot of an after step: a release ends a hold, a rest starts a rest."""
        if self.after is not None and self.after.kind is StepKind.RELEASE:
            return CueSlot.HOLD_END
        return CueSlot.REST_START

    def used_slots(self) -> tuple[CueSlot, ...]:
        """The slots whose cue this exercise's steps play (§5.6)."""
        used = {self.effort_slot}
        if self.lead is not None:
            used.add(self.lead_slot)
        if len(self.directions) > 1:
            used.add(CueSlot.DIRECTION_CHANGE)
        if self.after is not None:
            used.add(self.after_slot)
        if self.sets > 1:
            used.add(CueSlot.SET_REST)
        if self.switch_ms:
            used.add(CueSlot.SWITCH_SIDE)
        if self.countdown_s:
            used.add(CueSlot.COUNTDOWN)
        return tuple(sorted(used))


@dataclass(frozen=True)
class WireProgram:
    """A timer program as it travels to the watch (§5).

    Attributes:
        title: display title, at most 32 UTF-8 bytes.
        cues: the cue table, at most 255 entries with distinct names.
        exercises: 1..255 exercise records, in the order they run.
        end_cue: index of the cue played when the session completes, or ``None``.
        plan: the entries and the schedule (§5.8); a program with a plan is format 2 and
            has a cue named ``reminder``.
    """

    title: str
    cues: tuple[WireCue, ...]
    exercises: tuple[WireExercise, ...]
    end_cue: int | None = None
    plan: WirePlan | None = None

    def __post_init__(self) -> None:
        _check_name("title", self.title)
        check(isinstance(self.cues, tuple) and len(self.cues) <= 255, "at most 255 cues")
        names = [c.name for c in self.cues]
        check(len(set(names)) == len(names), "cue names must be distinct")
        check(
            isinstance(self.exercises, tuple) and 1 <= len(self.exercises) <= 255,
            "a program has 1..255 exercises",
        )
        if self.end_cue is not None:
            check_uint("end cue index", self.end_cue, len(self.cues) - 1)
        for number, ex in enumerate(self.exercises):
            for slot, cue in ex.cue_overrides:
                check(cue < len(self.cues), f"exercise {number}: {slot.cue_name} cue out of range")
            for slot in ex.used_slots():
                check(
                    self.cue_index(number, slot) is not None,
                    f"exercise {number}: no cue for slot {slot.cue_name}",
                )
        total = sum(ex.step_count for ex in self.exercises)
        check(total <= MAX_STEPS, f"the program unrolls into {total} steps, over {MAX_STEPS}")
        if self.plan is not None:
            check(isinstance(self.plan, WirePlan), "plan must be a WirePlan")
            check(REMINDER_CUE in names, "a program with a plan needs a 'reminder' cue")
            for entry in self.plan.entries:
                check(entry.exercise < len(self.exercises), "entry exercise out of range")

    @property
    def format(self) -> int:
        """The program's format byte (§3.4): 2 with a plan section, else 1."""
        return PROGRAM_FORMAT if self.plan is None else PROGRAM_FORMAT_PLAN

    @property
    def reminder_cue(self) -> int | None:
        """Index of the cue reminders play (§5.9), or None."""
        for index, cue_entry in enumerate(self.cues):
            if cue_entry.name == REMINDER_CUE:
                return index
        return None

    def cue_index(self, exercise: int, slot: CueSlot) -> int | None:
        """The cue an exercise plays in ``slot``: its override, else the cue named as the slot."""
        for overridden, cue in self.exercises[exercise].cue_overrides:
            if overridden is slot:
                return cue
        for index, cue_entry in enumerate(self.cues):
            if cue_entry.name == slot.cue_name:
                return index
        return None

    @property
    def step_count(self) -> int:
        """How many steps the program unrolls into."""
        return sum(ex.step_count for ex in self.exercises)

    @property
    def identity(self) -> bytes:
        """The program identity: the first 16 bytes of SHA-256 of its bytes (§5.7)."""
        return program_identity(bytes(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a program (§5.2-§5.5).

        Raises:
            UnsupportedVersionError: the format byte is not :data:`PROGRAM_FORMAT`.
            DecodeError: the bytes are not a valid, canonical program.
        """
        r = Reader(data, "program")
        fmt = r.u8()
        if fmt not in PROGRAM_FORMATS:
            raise UnsupportedVersionError("program", fmt, PROGRAM_FORMATS)
        if r.u8() != 0:
            raise r.error("reserved flags byte must be 0")
        cue_count, exercise_count, end_cue = r.u8(), r.u8(), r.u8()
        title = r.utf8(_name_length(r), "title")
        cues = tuple(_read_cue(r, fmt) for _ in range(cue_count))
        exercises = tuple(_read_exercise(r) for _ in range(exercise_count))
        plan = WirePlan.read(r) if fmt == PROGRAM_FORMAT_PLAN else None
        r.end()
        return build(
            r,
            lambda: cls(title, cues, exercises, None if end_cue == _NO_CUE else end_cue, plan),
        )

    def __bytes__(self) -> bytes:
        w = Writer().u8(self.format).u8(0).u8(len(self.cues)).u8(len(self.exercises))
        w.u8(_NO_CUE if self.end_cue is None else self.end_cue)
        _write_name(w, self.title)
        for cue in self.cues:
            _write_cue(w, cue, self.format)
        for ex in self.exercises:
            _write_exercise(w, ex)
        if self.plan is not None:
            self.plan.write(w)
        return bytes(w)


def program_identity(program: bytes) -> bytes:
    """The identity of encoded ``program``: SHA-256's first 16 bytes (§5.7)."""
    return hashlib.sha256(program).digest()[:IDENTITY_SIZE]


def program_crc(program: bytes) -> int:
    """The CRC-32 of encoded ``program`` that COMMIT carries (§5.7: CRC-32/ISO-HDLC)."""
    return zlib.crc32(program) & U32_MAX


def _name_length(r: Reader) -> int:
    size = r.u8()
    if size > MAX_NAME_BYTES:
        raise r.error(f"name of {size} bytes exceeds {MAX_NAME_BYTES}")
    return size


def _write_name(w: Writer, text: str) -> None:
    raw = text.encode("utf-8")
    w.u8(len(raw)).raw(raw)


def _read_duration(r: Reader, field: str) -> int:
    """A duration code (§5.1.2): low bit 1 means whole seconds, 0 means milliseconds."""
    code = r.varint(field)
    ms = (code >> 1) * 1000 if code & 1 else code >> 1
    if not 1 <= ms <= MAX_DURATION_MS:
        raise r.error(f"{field}: duration {ms} ms is outside 1..{MAX_DURATION_MS}")
    if not code & 1 and ms % 1000 == 0:
        raise r.error(f"{field}: whole seconds must use the seconds form")
    return ms


def _write_duration(w: Writer, ms: int) -> None:
    w.varint((ms // 1000) << 1 | 1 if ms % 1000 == 0 else ms << 1)


def _read_cue(r: Reader, fmt: int) -> WireCue:
    ref = r.u8()
    if ref < len(CueSlot):
        name = CueSlot(ref).cue_name
    elif ref == _REMINDER_REF and fmt >= PROGRAM_FORMAT_PLAN:
        name = REMINDER_CUE
    elif ref & 0x80 and 1 <= ref & 0x7F <= 32:
        name = r.utf8(ref & 0x7F, "cue name")
        if name in _SLOT_BY_NAME or (name == REMINDER_CUE and fmt >= PROGRAM_FORMAT_PLAN):
            raise r.error(f"cue name {name!r} must use its well-known number")
    else:
        raise r.error(f"bad cue name byte 0x{ref:02X}")
    shape = r.u8()
    if shape & ~(_SHAPE_COUNT | _SHAPE_WIDE | _SHAPE_HAS_STRENGTH):
        raise r.error("reserved cue shape bits must be 0")
    strength = 100
    if shape & _SHAPE_HAS_STRENGTH:
        strength = r.u8()
        if strength == 100:
            raise r.error("strength 100 is the default and must be left out")
    count = shape & _SHAPE_COUNT
    wide = bool(shape & _SHAPE_WIDE)
    pattern = tuple(r.u16() if wide else r.u8() * 10 for _ in range(count))
    cue = build(r, lambda: WireCue(name, pattern, strength))
    if cue.wide != wide:
        raise r.error("cue times use 10 ms units unless they need milliseconds")
    return cue


def _write_cue(w: Writer, cue: WireCue, fmt: int) -> None:
    slot = _SLOT_BY_NAME.get(cue.name)
    if slot is not None:
        w.u8(slot)
    elif cue.name == REMINDER_CUE and fmt >= PROGRAM_FORMAT_PLAN:
        w.u8(_REMINDER_REF)
    else:
        raw = cue.name.encode("ascii")
        w.u8(0x80 | len(raw)).raw(raw)
    wide = cue.wide
    shape = len(cue.pattern) | (_SHAPE_WIDE if wide else 0)
    if cue.strength != 100:
        shape |= _SHAPE_HAS_STRENGTH
    w.u8(shape)
    if cue.strength != 100:
        w.u8(cue.strength)
    for t in cue.pattern:
        if wide:
            w.u16(t)
        else:
            w.u8(t // 10)


def _read_codes(r: Reader, field: str, limit: int) -> tuple[int, ...]:
    """A packed list of 2-bit codes: count in bits 0-1, items in the following bit pairs."""
    packed = r.u8()
    count = packed & 0x03
    if not 1 <= count <= limit:
        raise r.error(f"{field}: count {count} outside 1..{limit}")
    if packed >> (2 + 2 * count):
        raise r.error(f"{field}: unused bits must be 0")
    return tuple(packed >> (2 + 2 * i) & 0x03 for i in range(count))


def _write_codes(w: Writer, codes: list[int]) -> None:
    packed = len(codes)
    for i, code in enumerate(codes):
        packed |= code << (2 + 2 * i)
    w.u8(packed)


def _read_exercise(r: Reader) -> WireExercise:
    flags = ExerciseFlags(r.u8())
    side_codes = _read_codes(r, "sides", 2)
    direction_codes = _read_codes(r, "directions", 3)
    if 3 in side_codes or 3 in direction_codes:
        raise r.error("side and direction code 3 is reserved")
    sets = r.u8()
    reps = r.varint("reps")
    countdown_s = r.u8()
    # A kind bit without its presence bit would be lost on re-encoding: not canonical.
    if flags & ExerciseFlags.LEAD_TRANSITION and not flags & ExerciseFlags.HAS_LEAD:
        raise r.error("LEAD_TRANSITION set without HAS_LEAD")
    if flags & ExerciseFlags.AFTER_REST and not flags & ExerciseFlags.HAS_AFTER:
        raise r.error("AFTER_REST set without HAS_AFTER")
    lead = after = None
    if flags & ExerciseFlags.HAS_LEAD:
        kind = StepKind.TRANSITION if flags & ExerciseFlags.LEAD_TRANSITION else StepKind.PREPARE
        lead = Timed(kind, _read_duration(r, "lead"))
    effort_kind = StepKind.WORK if flags & ExerciseFlags.EFFORT_WORK else StepKind.HOLD
    effort = Timed(effort_kind, _read_duration(r, "effort"))
    if flags & ExerciseFlags.HAS_AFTER:
        kind = StepKind.REST if flags & ExerciseFlags.AFTER_REST else StepKind.RELEASE
        after = Timed(kind, _read_duration(r, "after"))
    set_rest_ms = _read_duration(r, "set rest") if sets > 1 else 0
    switch_ms = _read_duration(r, "switch side") if flags & ExerciseFlags.HAS_SWITCH else 0
    overrides = []
    for _ in range(r.u8()):
        slot, cue = r.u8(), r.u8()
        if slot >= len(CueSlot):
            raise r.error(f"unknown cue slot {slot}")
        overrides.append((CueSlot(slot), cue))
    name = r.utf8(_name_length(r), "exercise name")
    return build(
        r,
        lambda: WireExercise(
            name=name,
            effort=effort,
            sides=tuple(_SIDES[c] for c in side_codes),
            directions=tuple(_DIRECTIONS[c] for c in direction_codes),
            sets=sets,
            reps=reps,
            lead=lead,
            after=after,
            after_each_direction=bool(flags & ExerciseFlags.AFTER_EACH_DIRECTION),
            after_skip_last=bool(flags & ExerciseFlags.AFTER_SKIP_LAST),
            set_rest_ms=set_rest_ms,
            switch_ms=switch_ms,
            countdown_s=countdown_s,
            cue_overrides=tuple(overrides),
        ),
    )


def _write_exercise(w: Writer, ex: WireExercise) -> None:
    w.u8(ex.flags)
    _write_codes(w, [SIDE_CODES[s] for s in ex.sides])
    _write_codes(w, [DIRECTION_CODES[d] for d in ex.directions])
    w.u8(ex.sets).varint(ex.reps).u8(ex.countdown_s)
    if ex.lead is not None:
        _write_duration(w, ex.lead.ms)
    _write_duration(w, ex.effort.ms)
    if ex.after is not None:
        _write_duration(w, ex.after.ms)
    if ex.sets > 1:
        _write_duration(w, ex.set_rest_ms)
    if ex.switch_ms:
        _write_duration(w, ex.switch_ms)
    w.u8(len(ex.cue_overrides))
    for slot, cue in ex.cue_overrides:
        w.u8(slot).u8(cue)
    _write_name(w, ex.name)
