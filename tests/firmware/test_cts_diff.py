"""Differential testing of the clock (§10): Current Time Service writes and reads, against the
codecs and the simulator's rules.

``control_run`` applies Local Time Information and Current Time writes to the firmware's
``cts.c`` and prints each code, the UTC the watch then keeps, and the Current Time it reads
back. The reference is ``LocalTimeInformation``, ``CurrentTime`` and ``cts_to_utc`` with the
error codes of the simulator's CTS (0x0D length, 0xFF out of range, 0x80 unknown date).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.firmware.tools import ToolProcess, run_checked
from wearsync.protocol import (
    AdjustReason,
    CurrentTime,
    DecodeError,
    LocalTimeInformation,
    cts_to_utc,
)

pytestmark = pytest.mark.slow

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ReferenceClock:
    def __init__(self) -> None:
        self.local = LocalTimeInformation(0)
        self.utc: datetime | None = None

    def write_local(self, value: bytes) -> str:
        if len(value) != 2:
            return "code 13"
        try:
            self.local = LocalTimeInformation.from_bytes(value)
        except DecodeError:
            return "code 255"
        return "code 0"

    def write_current(self, value: bytes) -> str:
        code = 0
        if len(value) != 10:
            code = 13
        else:
            try:
                current = CurrentTime.from_bytes(value)
            except DecodeError:
                code = 255
            else:
                utc = cts_to_utc(current, self.local)
                if utc is None:
                    code = 0x80
                else:
                    self.utc = utc
        utc_ms = "-" if self.utc is None else str((self.utc - EPOCH) // timedelta(milliseconds=1))
        return f"code {code} utc {utc_ms}"

    def read_current(self) -> str | None:
        """The Current Time value, or None where the simulator cannot state it (year > 9999)."""
        if self.utc is None:
            return f"current {bytes(CurrentTime(0, 0, 0, 0, 0, 0)).hex()}"
        # The firmware keeps UTC in whole milliseconds (the simulator in microseconds): the
        # 1/256 s of a Current Time written come back rounded down to the millisecond.
        utc = self.utc.replace(microsecond=self.utc.microsecond // 1000 * 1000)
        local = (utc + (self.local.utc_offset or timedelta(0))).replace(tzinfo=None)
        if not 1582 <= local.year <= 9999:
            return None
        return f"current {bytes(CurrentTime.from_datetime(local, AdjustReason(0))).hex()}"


@pytest.fixture(scope="module")
def harness() -> Iterator[ToolProcess]:
    yield from run_checked(ToolProcess("control_run"))


def current_times() -> st.SearchStrategy[bytes]:
    """Current Time values: mostly real local times, some with fields out of range or unknown."""
    real = st.datetimes(datetime(1582, 1, 1), datetime(9999, 12, 31, 23, 59, 59)).map(
        lambda d: bytes(CurrentTime.from_datetime(d))
    )
    fields = st.tuples(
        st.sampled_from([0, 1581, 1582, 2026, 9999, 10000, 0xFFFF]),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 24),
        st.integers(0, 60),
        st.integers(0, 60),
        st.integers(0, 8),
        st.integers(0, 255),
        st.integers(0, 255),
    ).map(lambda f: f[0].to_bytes(2, "little") + bytes(f[1:]))
    return st.one_of(real, fields, st.binary(max_size=12))


def local_times() -> st.SearchStrategy[bytes]:
    zone = st.one_of(st.integers(-48, 56), st.sampled_from([-128, -49, 57, 127, -127]))
    dst = st.sampled_from([0, 2, 4, 8, 255, 1, 3, 16])
    good = st.tuples(zone, dst).map(
        lambda z: z[0].to_bytes(1, "little", signed=True) + bytes([z[1]])
    )
    return st.one_of(good, st.binary(max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    writes=st.lists(
        st.one_of(
            st.tuples(st.just("local"), local_times()),
            st.tuples(st.just("current"), current_times()),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_cts_writes_and_reads_match_the_reference(
    harness: ToolProcess, writes: list[tuple[str, bytes]]
) -> None:
    reference = ReferenceClock()
    harness.tell("reset 15")
    for kind, value in writes:
        if kind == "local":
            expected = reference.write_local(value)
        else:
            expected = reference.write_current(value)
        assert harness.ask(f"{kind} {value.hex()}") == expected, (kind, value.hex())
        read = reference.read_current()
        answer = harness.ask("read-current")
        if read is not None:
            assert answer == read
