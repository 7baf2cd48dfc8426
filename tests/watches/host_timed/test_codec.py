"""Immediate Alert and New Alert values (the host-timed codec): golden bytes decoded by hand,
round trips, and fuzz (arbitrary bytes only ever raise DecodeError)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wearsync.protocol.errors import DecodeError, EncodeError
from wearsync.watches.host_timed.codec import (
    INFINITIME_TEXT_MAX,
    AlertCategory,
    AlertLevel,
    AlertLevelValue,
    NewAlert,
)


class TestGolden:
    def test_alert_levels(self) -> None:
        """IAS 1.0 §3.1: one byte, 00 no alert, 01 mild, 02 high."""
        assert bytes(AlertLevelValue(AlertLevel.NONE)) == b"\x00"
        assert bytes(AlertLevelValue(AlertLevel.MILD)) == b"\x01"
        assert bytes(AlertLevelValue(AlertLevel.HIGH)) == b"\x02"
        assert AlertLevelValue.from_bytes(b"\x02").level is AlertLevel.HIGH

    def test_reserved_level_is_kept(self) -> None:
        """07 is reserved: kept as an unknown member, not rejected."""
        value = AlertLevelValue.from_bytes(b"\x07")
        assert int(value.level) == 7 and not value.level.known
        assert bytes(value) == b"\x07"

    def test_infinitime_new_alert(self) -> None:
        """The example of InfiniTime's doc/ble.md:

        ``00`` category Simple Alert, ``01`` one new alert, ``00`` InfiniTime's separator after
        the count, ``54 65 73 74 20 54 69 74 6c 65`` "Test Title", ``00``, then "Test Body".
        """
        data = bytes.fromhex("00 01 00 54 65 73 74 20 54 69 74 6c 65 00 54 65 73 74 20 42 6f 64 79")
        alert = NewAlert.from_bytes(data)
        assert alert.category is AlertCategory.SIMPLE_ALERT
        assert alert.count == 1
        assert alert.parts() == ("Test Title", "Test Body")
        assert (
            bytes(NewAlert.titled("Test Title", "Test Body", category=AlertCategory.SIMPLE_ALERT))
            == data
        )

    def test_schedule_alert_for_a_cue(self) -> None:
        """``07`` Schedule, ``01``, ``00``, "Toe Presses", ``00``, "Hold 3 s"."""
        alert = NewAlert.titled("Toe Presses", "Hold 3 s")
        assert bytes(alert) == b"\x07\x01\x00Toe Presses\x00Hold 3 s"

    def test_plain_sig_text(self) -> None:
        """A New Alert as the SIG profile sends it: category, count, text (no separators)."""
        alert = NewAlert.from_bytes(b"\x05\x02Hi there")
        assert (alert.category, alert.count, alert.text) == (AlertCategory.SMS_MMS, 2, "Hi there")
        assert alert.parts() == ("Hi there", "")

    def test_header_only(self) -> None:
        assert NewAlert.from_bytes(b"\x07\x00") == NewAlert(AlertCategory.SCHEDULE, 0, "")


class TestBadInput:
    @pytest.mark.parametrize("data", [b"", b"\x01\x02"])
    def test_alert_level_must_be_one_byte(self, data: bytes) -> None:
        with pytest.raises(DecodeError):
            AlertLevelValue.from_bytes(data)

    @pytest.mark.parametrize("data", [b"", b"\x07", b"\x07\x01\xff\xfe", b"\x07\x01\xc3"])
    def test_new_alert_needs_header_and_utf8(self, data: bytes) -> None:
        with pytest.raises(DecodeError):
            NewAlert.from_bytes(data)

    def test_out_of_range_values_cannot_be_built(self) -> None:
        with pytest.raises(EncodeError):
            NewAlert(AlertCategory.SCHEDULE, 256, "")
        with pytest.raises(EncodeError):
            NewAlert(AlertCategory.SCHEDULE, 1, "x" * 511)
        with pytest.raises(EncodeError):
            NewAlert(AlertCategory.SCHEDULE, 1, "\ud800")
        with pytest.raises(EncodeError):
            NewAlert.titled("with\0nul")


class TestTitled:
    def test_long_text_is_cut_between_characters(self) -> None:
        long_title = "Ünïcödé " * 20
        alert = NewAlert.titled(long_title, "body")
        title, body = alert.parts()
        # "\0" title "\0" fits InfiniTime's buffer; the cut never splits a character.
        assert len(title.encode()) + 1 <= INFINITIME_TEXT_MAX
        assert long_title.startswith(title) and len(title) > 30
        assert body == ""  # the title kept its room first

    def test_body_fills_what_the_title_leaves(self) -> None:
        alert = NewAlert.titled("Walk", "x" * 200, max_bytes=20)
        assert alert.parts() == ("Walk", "x" * 15)


@given(
    category=st.integers(0, 255),
    count=st.integers(0, 255),
    text=st.text(max_size=120).filter(lambda t: len(t.encode("utf-8", "surrogatepass")) <= 510),
)
def test_new_alert_round_trip(category: int, count: int, text: str) -> None:
    try:
        alert = NewAlert(AlertCategory(category), count, text)
    except EncodeError:
        return  # lone surrogates have no UTF-8 form
    assert NewAlert.from_bytes(bytes(alert)) == alert


@given(
    title=st.text(max_size=60).filter(lambda t: "\0" not in t),
    body=st.text(max_size=60).filter(lambda t: "\0" not in t),
)
def test_titled_round_trip(title: str, body: str) -> None:
    try:
        alert = NewAlert.titled(title, body, max_bytes=400)
    except EncodeError:
        return
    assert NewAlert.from_bytes(bytes(alert)).parts() == (title, body)


@given(level=st.integers(0, 255))
def test_alert_level_round_trip(level: int) -> None:
    value = AlertLevelValue(AlertLevel(level))
    assert AlertLevelValue.from_bytes(bytes(value)) == value


@pytest.mark.parametrize("decode", [AlertLevelValue.from_bytes, NewAlert.from_bytes])
@settings(max_examples=300)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_decode_error(decode: object, data: bytes) -> None:
    assert callable(decode)
    try:
        value = decode(data)
    except DecodeError:
        return
    assert decode(bytes(value)) == value
