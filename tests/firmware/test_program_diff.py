"""Differential fuzzing: the firmware's program validator and expander against the reference.

``firmware/build/asan/validate`` (``program.c``, ``plan.c`` and ``ident.c`` under ASan and
UBSan) reads one program per line as hex and prints its verdict and, for a valid program, its
step count, identity, CRC, every expanded step and the plan section with each entry's steps.
The reference is ``decode_program``, ``expand`` and ``entry_steps`` (docs/protocol.md §5.5,
§5.6, §5.8): programs of both formats, as a watch with ENTRIES runs them. One harness process
serves every example, so a few thousand cases take seconds: each generated program (half of
them format 2) also yields twenty mutants.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.firmware.tools import ToolProcess, run_checked
from tests.watches.wearsync_timer.codec.strategies import wire_programs
from wearsync.protocol import DecodeError, UnsupportedVersionError
from wearsync.watches.wearsync_timer.codec import (
    WireProgram,
    decode_program,
    expand,
    program_crc,
    program_identity,
)
from wearsync.watches.wearsync_timer.codec.expand import entry_steps
from wearsync.watches.wearsync_timer.codec.plan import EPOCH

#: §13.1, the golden program.
GOLDEN = bytes.fromhex(
    "01000401030444656d6f09213c0602030f0a0f01013c8962757a7a5f6c6f6e670178"
    "0a0101010a020b07050100030b546f6520507265737365 73".replace(" ", "")
)
#: §13.7, the golden program with a plan (format 2): the format-1 part, then the plan.
GOLDEN_PLAN = bytes.fromhex(
    "02000501030444656d6f09213c0602030f0a0f01013c8962757a7a5f6c6f6e6701780b033219320a"
    "0101010a020b07050100030b546f652050726573736573022250013804010003e0010c033884"
)
HEAD, PLAN = GOLDEN_PLAN[:63], GOLDEN_PLAN[63:]


class Harness(ToolProcess):
    """One running ``validate`` process."""

    def __init__(self) -> None:
        super().__init__("validate")

    def verdict(self, program: bytes) -> tuple[str, list[str]]:
        """``(first line, step and plan lines)`` for ``program``."""
        self.send(program.hex() + "\n")
        head = self.read_line()
        assert head, f"the harness died: {self.close()}"
        lines: list[str] = []
        if head.startswith("valid "):
            count = int(head.split()[1])
            lines = [self.read_line() for _ in range(count + 1)]
            if lines[-1] != "plan none":
                entries = int(lines[-1].split()[4])
                lines += [self.read_line() for _ in range(entries)]
        return head, lines


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    yield from run_checked(Harness())


def plan_lines(wire: WireProgram) -> list[str]:
    """The plan section (§5.8) and each entry's steps (§5.8 "Running an entry") as printed."""
    plan = wire.plan
    if plan is None:
        return ["plan none"]
    reminder = wire.reminder_cue
    assert reminder is not None
    times = ",".join(str(t) for t in plan.times)
    first_day = (plan.first_day - EPOCH).days
    head = f"plan {plan.every_days} {first_day} {times} {len(plan.entries)} "
    lines = [head + wire.cues[reminder].name]
    for number, entry in enumerate(plan.entries, start=1):
        runs = entry_steps(wire, number)
        slots = ",".join(f"{s.minute}{'!' if s.not_on_routine_days else ''}" for s in entry.slots)
        lines.append(f"entry {entry.exercise} {runs.start} {runs.stop} {slots}")
    return lines


def reference(program: bytes) -> tuple[str, list[str]]:
    """What the harness must print for ``program``, from the Python decoder."""
    try:
        wire = decode_program(program)
    except UnsupportedVersionError:
        return "unsupported", []
    except DecodeError:
        return "invalid", []
    steps = [
        " ".join(
            str(field)
            for field in (
                s.kind.value,
                s.duration_ms,
                s.cue,
                s.countdown_cue or "-",
                s.countdown_ms,
                s.exercise,
                s.set,
                s.rep,
                s.side.value,
                s.direction.value,
            )
        )
        for s in expand(wire)
    ]
    head = f"valid {len(steps)} {program_identity(program).hex()} {program_crc(program):08x}"
    return head, steps + plan_lines(wire)


def check(harness: Harness, program: bytes) -> None:
    assert harness.verdict(program) == reference(program), program.hex()


def test_the_golden_program_expands_into_21_steps(harness: Harness) -> None:
    head, steps = harness.verdict(GOLDEN)
    assert head == "valid 21 e7ad8af7960c6574dd830f2a798297e3 9b7e02e5"
    assert steps[0] == "prepare 5000 buzz_long - 0 0 1 0 both none"
    assert steps[1] == "hold 3000 hold_start countdown 2000 0 1 1 both none"
    check(harness, GOLDEN)


def test_the_golden_plan_program_has_its_plan_and_entry_1(harness: Harness) -> None:
    """§13.7: every 2 days from 2026-03-02 (day 20514) at 18:00; entry 1 runs exercise 0,
    steps 0..20, at 08:00, 13:00 and 18:00, the last not on routine days."""
    head, lines = harness.verdict(GOLDEN_PLAN)
    assert head == "valid 21 00dc427d39dba464eb1091a8b500e91b 8f4460a3"
    assert lines[-2:] == ["plan 2 20514 1080 1 reminder", "entry 0 0 21 480,780,1080!"]
    check(harness, GOLDEN_PLAN)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=wire_programs())
def test_valid_programs_expand_like_the_reference(harness: Harness, program: object) -> None:
    check(harness, bytes(program))  # type: ignore[call-overload]


#: Mutants per generated program: generating a valid program costs far more than checking one.
MUTANTS = 20


def mutate(program: bytes, rng: random.Random) -> bytes:
    """``program`` with one to three bytes set, flipped, inserted or deleted, or cut short."""
    data = bytearray(program)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        where = rng.randrange(len(data))
        match rng.choice(["set", "flip", "insert", "delete", "truncate"]):
            case "set":
                data[where] = rng.randrange(256)
            case "flip":
                data[where] ^= 1 << rng.randrange(8)
            case "insert":
                data.insert(where, rng.randrange(256))
            case "delete":
                del data[where]
            case _:
                del data[where:]
    return bytes(data)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=wire_programs(), seed=st.integers(0, 2**32 - 1))
def test_mutated_programs_get_the_reference_verdict(
    harness: Harness, program: object, seed: int
) -> None:
    rng = random.Random(seed)
    for _ in range(MUTANTS):
        check(harness, mutate(bytes(program), rng))  # type: ignore[call-overload]


@settings(max_examples=1000, deadline=None)
@given(
    program=st.binary(max_size=64)
    | st.binary(max_size=64).map(lambda b: b"\x01\x00" + b)
    | st.binary(max_size=24).map(lambda b: HEAD + b)
)
def test_random_bytes_get_the_reference_verdict(harness: Harness, program: bytes) -> None:
    check(harness, program)


@pytest.mark.parametrize(
    "program",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x02", id="format-2"),
        pytest.param(GOLDEN + b"\x00", id="trailing-byte"),
        pytest.param(GOLDEN[:-1], id="truncated-name"),
        pytest.param(
            GOLDEN.replace(bytes.fromhex("0b0705"), bytes.fromhex("0b0605")), id="3-s-as-ms"
        ),
        pytest.param(GOLDEN + bytes(65536 - len(GOLDEN)), id="over-65535-bytes"),
        pytest.param(b"\x02" + bytes(65535), id="over-65535-bytes-format-2"),
        pytest.param(b"\x03" + GOLDEN_PLAN[1:], id="format-3"),
        pytest.param(GOLDEN_PLAN + b"\x00", id="plan-trailing-byte"),
        pytest.param(GOLDEN_PLAN[:-1], id="plan-truncated-slot"),
        pytest.param(HEAD, id="plan-missing"),
        # The reminder cue as a custom name (0x88 "reminder"): refused in format 2 only.
        pytest.param(
            GOLDEN_PLAN.replace(bytes.fromhex("0b033219"), b"\x88reminder\x03\x32\x19"),
            id="plan-custom-reminder-name",
        ),
        pytest.param(
            b"\x01"
            + GOLDEN_PLAN[1:58].replace(bytes.fromhex("0b033219"), b"\x88reminder\x03\x32\x19"),
            id="format-1-custom-reminder-name",
        ),
        pytest.param(b"\x01" + GOLDEN_PLAN[1:58], id="format-1-name-ref-0x0b"),
        pytest.param(
            GOLDEN_PLAN.replace(bytes.fromhex("0b033219"), bytes.fromhex("8462656570033219")),
            id="plan-without-reminder-cue",
        ),
        pytest.param(GOLDEN_PLAN[:-2] + bytes.fromhex("3804"), id="plan-slot-times-increase"),
        pytest.param(GOLDEN_PLAN[:-2] + bytes.fromhex("38c4"), id="plan-reserved-slot-bit"),
        pytest.param(GOLDEN_PLAN[:-2] + bytes.fromhex("a085"), id="plan-slot-minute-1440"),
        pytest.param(HEAD + PLAN[:7] + b"\x01" + PLAN[8:], id="plan-entry-exercise-1"),
        pytest.param(HEAD + b"\x00" + PLAN[1:], id="plan-every-0-days"),
        pytest.param(HEAD + PLAN[:3] + b"\x00" + PLAN[6:], id="plan-no-routine-time"),
        pytest.param(HEAD + PLAN[:6] + b"\x00", id="plan-no-entries"),
        pytest.param(
            HEAD + PLAN[:3] + b"\x02\x38\x04\x38\x04" + PLAN[6:], id="plan-same-time-twice"
        ),
        pytest.param(HEAD + PLAN[:8] + b"\x00" + PLAN[9:], id="plan-entry-no-slots"),
    ],
)
def test_edge_cases_get_the_reference_verdict(harness: Harness, program: bytes) -> None:
    check(harness, program)
