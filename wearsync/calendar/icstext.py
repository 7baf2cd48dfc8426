"""Writing RFC 5545 content lines directly, for the events a feed has thousands of.

Building a few thousand history events through icalendar's component objects takes about a
second; the history events have a fixed shape (UID, times in UTC, text), so they are written as
text here instead, with the same escaping (section 3.3.11) and line folding (section 3.1) that
icalendar applies. Tests parse the result back with icalendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

CRLF = "\r\n"
_FOLD_OCTETS = 75  # section 3.1: lines SHOULD NOT be longer than 75 octets, excluding CRLF


def escape_text(value: str) -> str:
    """Escape a TEXT value (section 3.3.11): backslash, semicolon, comma and newline."""
    # Chained replace() is several times faster than str.translate() with a mapping here.
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def utc_stamp(moment: datetime) -> str:
    """A DATE-TIME in UTC form (section 3.3.5, FORM #2): ``20250330T170000Z``."""
    u = moment.astimezone(UTC)
    return f"{u.year:04d}{u.month:02d}{u.day:02d}T{u.hour:02d}{u.minute:02d}{u.second:02d}Z"


def date_value(day: date) -> str:
    """A DATE value (section 3.3.4): ``20250330``."""
    return day.strftime("%Y%m%d")


def fold(line: str) -> str:
    """Fold one content line to at most 75 octets per line, never inside a UTF-8 sequence.

    Returns the folded line with its trailing CRLF.
    """
    if line.isascii():  # one octet per character: slice the text directly
        if len(line) <= _FOLD_OCTETS:
            return line + CRLF
        rest = line[_FOLD_OCTETS:]
        step = _FOLD_OCTETS - 1
        chunks = [line[:_FOLD_OCTETS], *(rest[i : i + step] for i in range(0, len(rest), step))]
        return (CRLF + " ").join(chunks) + CRLF
    raw = line.encode()
    if len(raw) <= _FOLD_OCTETS:
        return line + CRLF
    parts: list[str] = []
    start = 0
    limit = _FOLD_OCTETS
    while start < len(raw):
        end = min(start + limit, len(raw))
        # Step back over UTF-8 continuation bytes (0b10xxxxxx) so a character stays whole.
        while end < len(raw) and raw[end] & 0xC0 == 0x80:
            end -= 1
        parts.append(raw[start:end].decode())
        start = end
        limit = _FOLD_OCTETS - 1  # continuation lines start with one space
    return (CRLF + " ").join(parts) + CRLF


def text_line(name: str, value: str) -> str:
    """A folded ``NAME:value`` line with ``value`` escaped as TEXT."""
    return fold(f"{name}:{escape_text(value)}")
