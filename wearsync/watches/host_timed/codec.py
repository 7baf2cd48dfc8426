"""Codecs of the standard alert values a host-timed watch is buzzed through.

Watches without a timer service (PineTime with InfiniTime, fitness bands, key finders) can still
vibrate on command. Two Bluetooth SIG services do it:

- **Immediate Alert Service** (IAS, 0x1802), characteristic **Alert Level** (0x2A06): one
  unsigned byte, 0 "No Alert", 1 "Mild Alert", 2 "High Alert" (IAS 1.0 §3.1; the values 3-255
  are reserved). The client writes it *without response*. Reserved values are kept as they came
  (:class:`~wearsync.protocol.enums.OpenIntEnum`), not rejected.
- **Alert Notification Service** (ANS, 0x1811), characteristic **New Alert** (0x2A46):
  Category ID (u8), Number of New Alert (u8), then the Text String Information in UTF-8
  (ANS 1.0 §3.2; the SIG Alert Category ID table: 0 Simple Alert, 1 Email, 2 News, 3 Call,
  4 Missed Call, 5 SMS/MMS, 6 Voice Mail, 7 Schedule, 8 High Prioritized Alert, 9 Instant
  Message). In the SIG profile the phone *notifies* New Alert; InfiniTime turns it around and
  hosts the service on the watch, accepting writes with response, and reads the text in its
  own layout: a ``\\0`` right after the count, then the title, ``\\0``, the body
  (InfiniTime ``doc/ble.md``, "New Alert"). :meth:`NewAlert.titled` builds that layout and
  :meth:`NewAlert.parts` reads it back.

Bytes in, frozen values out: no I/O. Every decoder raises only
:class:`~wearsync.protocol.errors.DecodeError` on malformed input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Self

from wearsync.protocol.enums import OpenIntEnum
from wearsync.protocol.uuids import sig_uuid
from wearsync.protocol.wire import Reader, Writer, build, check, check_uint, utf8_prefix

__all__ = [
    "ALERT_LEVEL",
    "ALERT_NOTIFICATION_SERVICE",
    "IMMEDIATE_ALERT_SERVICE",
    "INFINITIME_TEXT_MAX",
    "MAX_NEW_ALERT_TEXT",
    "NEW_ALERT",
    "AlertCategory",
    "AlertLevel",
    "AlertLevelValue",
    "NewAlert",
]

IMMEDIATE_ALERT_SERVICE: Final = sig_uuid(0x1802)
ALERT_LEVEL: Final = sig_uuid(0x2A06)
ALERT_NOTIFICATION_SERVICE: Final = sig_uuid(0x1811)
NEW_ALERT: Final = sig_uuid(0x2A46)

#: A GATT attribute value holds at most 512 bytes; New Alert spends two on its header.
MAX_NEW_ALERT_TEXT: Final = 512 - 2
#: InfiniTime keeps at most this many bytes of title and body (its notification buffer is
#: 100 bytes, the last one a terminator), counted after the ``\\0`` that follows the count.
INFINITIME_TEXT_MAX: Final = 99
_SEPARATOR: Final = "\0"


class AlertLevel(OpenIntEnum):
    """The Alert Level values of IAS 1.0 §3.1 (3-255 are reserved and kept as they come)."""

    NONE = 0
    MILD = 1
    HIGH = 2


class AlertCategory(OpenIntEnum):
    """Alert Category ID of the SIG assigned numbers (ANS); unknown ones are kept."""

    SIMPLE_ALERT = 0
    EMAIL = 1
    NEWS = 2
    CALL = 3
    MISSED_CALL = 4
    SMS_MMS = 5
    VOICE_MAIL = 6
    SCHEDULE = 7
    HIGH_PRIORITIZED_ALERT = 8
    INSTANT_MESSAGE = 9


@dataclass(frozen=True)
class AlertLevelValue:
    """The Alert Level characteristic value: exactly one byte.

    Attributes:
        level: how strongly the device should alert.
    """

    level: AlertLevel

    def __post_init__(self) -> None:
        check(isinstance(self.level, AlertLevel), f"level must be an AlertLevel: {self.level!r}")
        check_uint("alert level", int(self.level), 0xFF)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a written Alert Level.

        Raises:
            DecodeError: not exactly one byte.
        """
        r = Reader(data, "alert level")
        level = AlertLevel(r.u8())
        r.end()
        return build(r, lambda: cls(level))

    def __bytes__(self) -> bytes:
        return bytes(Writer().u8(int(self.level)))


@dataclass(frozen=True)
class NewAlert:
    """The New Alert characteristic value.

    Attributes:
        category: the Alert Category ID.
        count: Number of New Alert, 0..255.
        text: the Text String Information exactly as carried (InfiniTime's layout included).
    """

    category: AlertCategory
    count: int
    text: str

    def __post_init__(self) -> None:
        check(
            isinstance(self.category, AlertCategory),
            f"category must be an AlertCategory: {self.category!r}",
        )
        check_uint("category", int(self.category), 0xFF)
        check_uint("count", self.count, 0xFF)
        check(isinstance(self.text, str), "text must be a str")
        try:
            size = len(self.text.encode("utf-8"))
        except UnicodeEncodeError:
            size = -1  # a lone surrogate: no UTF-8 form
        check(size >= 0, "text must be encodable as UTF-8")
        check(size <= MAX_NEW_ALERT_TEXT, f"text of {size} bytes exceeds {MAX_NEW_ALERT_TEXT}")

    @classmethod
    def titled(
        cls,
        title: str,
        body: str = "",
        *,
        category: AlertCategory = AlertCategory.SCHEDULE,
        count: int = 1,
        max_bytes: int = INFINITIME_TEXT_MAX,
    ) -> Self:
        """A New Alert in InfiniTime's layout: ``\\0`` title ``\\0`` body.

        Title and body are cut (between characters, never inside one) so that both with the
        separator between them fit ``max_bytes``; the title keeps its room first.

        Raises:
            EncodeError: ``title`` or ``body`` contains ``\\0``, or ``max_bytes`` is too small
                to hold anything.
        """
        check(_SEPARATOR not in title + body, "title and body must not contain NUL")
        check(1 <= max_bytes <= MAX_NEW_ALERT_TEXT - 1, f"max_bytes {max_bytes} out of range")
        head = utf8_prefix(title, max_bytes - 1).decode("utf-8")
        room = max_bytes - len(head.encode("utf-8")) - 1
        tail = utf8_prefix(body, room).decode("utf-8") if room > 0 else ""
        return cls(category, count, _SEPARATOR + head + _SEPARATOR + tail)

    def parts(self) -> tuple[str, str]:
        """``(title, body)`` of an InfiniTime-layout text; a plain text is all title."""
        if not self.text.startswith(_SEPARATOR):
            return self.text, ""
        title, _, body = self.text[1:].partition(_SEPARATOR)
        return title, body

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a New Alert value.

        Raises:
            DecodeError: shorter than its two-byte header, or the text is not UTF-8.
        """
        r = Reader(data, "new alert")
        category, count = AlertCategory(r.u8()), r.u8()
        text = r.utf8(r.remaining, "text")
        return build(r, lambda: cls(category, count, text))

    def __bytes__(self) -> bytes:
        w = Writer().u8(int(self.category)).u8(self.count)
        return bytes(w.raw(self.text.encode("utf-8")))
