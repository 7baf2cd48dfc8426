"""Primitive readers and writers shared by the codecs (``docs/protocol.md`` §1.2 and §5.1).

All multi-byte integers are little-endian. The reader turns every way bytes can be short,
long or out of range into :class:`DecodeError`, so codecs built on it cannot leak
``IndexError`` or ``struct.error``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from wearsync.protocol.errors import DecodeError, EncodeError

T = TypeVar("T")

U16_MAX = 0xFFFF
U32_MAX = 0xFFFF_FFFF
#: Longest canonical LEB128 encoding of a u32.
_VARINT_MAX_BYTES = 5


class Reader:
    """Reads little-endian fields from ``data``, failing with :class:`DecodeError`."""

    def __init__(self, data: bytes | bytearray | memoryview, what: str) -> None:
        self._data = bytes(data)
        self._pos = 0
        self.what = what

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self._data) - self._pos

    def error(self, problem: str) -> DecodeError:
        """A :class:`DecodeError` for ``problem`` at the current position."""
        return DecodeError(self.what, f"{problem} (at byte {self._pos})")

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes."""
        if n > self.remaining:
            raise self.error(f"needs {n} more byte(s), has {self.remaining}")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def rest(self) -> bytes:
        """Every byte not read yet."""
        return self.take(self.remaining)

    def uint(self, size: int) -> int:
        """An unsigned little-endian integer of ``size`` bytes."""
        return int.from_bytes(self.take(size), "little")

    def u8(self) -> int:
        """An unsigned byte."""
        return self.uint(1)

    def s8(self) -> int:
        """A signed byte."""
        return int.from_bytes(self.take(1), "little", signed=True)

    def u16(self) -> int:
        """An unsigned 16-bit integer."""
        return self.uint(2)

    def u32(self) -> int:
        """An unsigned 32-bit integer."""
        return self.uint(4)

    def varint(self, field: str) -> int:
        """A canonical unsigned LEB128 integer of at most 32 bits (§5.1.1)."""
        start = self._pos
        value = 0
        for shift in range(0, 7 * _VARINT_MAX_BYTES, 7):
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                # A final zero byte after the first adds nothing: not the shortest form.
                if byte == 0 and self._pos - start > 1:
                    raise self.error(f"{field}: varint is not in its shortest form")
                if value > U32_MAX:
                    raise self.error(f"{field}: varint exceeds 32 bits")
                return value
        raise self.error(f"{field}: varint longer than {_VARINT_MAX_BYTES} bytes")

    def utf8(self, size: int, field: str) -> str:
        """``size`` bytes of UTF-8 text."""
        raw = self.take(size)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.error(f"{field}: not valid UTF-8") from exc

    def end(self) -> None:
        """Fail if any byte is left over."""
        if self.remaining:
            raise self.error(f"{self.remaining} unexpected trailing byte(s)")


class Writer:
    """Builds a little-endian byte string."""

    def __init__(self) -> None:
        self._out = bytearray()

    def raw(self, data: bytes) -> Writer:
        """Append ``data`` unchanged."""
        self._out += data
        return self

    def uint(self, value: int, size: int) -> Writer:
        """Append ``value`` as an unsigned integer of ``size`` bytes."""
        if not 0 <= value < 1 << (8 * size):
            raise EncodeError(f"{value} does not fit in {size} unsigned byte(s)")
        self._out += value.to_bytes(size, "little")
        return self

    def u8(self, value: int) -> Writer:
        """Append an unsigned byte."""
        return self.uint(value, 1)

    def s8(self, value: int) -> Writer:
        """Append a signed byte."""
        if not -128 <= value <= 127:
            raise EncodeError(f"{value} does not fit in a signed byte")
        self._out += value.to_bytes(1, "little", signed=True)
        return self

    def u16(self, value: int) -> Writer:
        """Append an unsigned 16-bit integer."""
        return self.uint(value, 2)

    def u32(self, value: int) -> Writer:
        """Append an unsigned 32-bit integer."""
        return self.uint(value, 4)

    def varint(self, value: int) -> Writer:
        """Append ``value`` as canonical unsigned LEB128 (§5.1.1)."""
        if not 0 <= value <= U32_MAX:
            raise EncodeError(f"varint {value} is outside 0..{U32_MAX}")
        while True:
            byte = value & 0x7F
            value >>= 7
            if value:
                self._out.append(byte | 0x80)
            else:
                self._out.append(byte)
                return self

    def __bytes__(self) -> bytes:
        return bytes(self._out)


def check(condition: bool, problem: str) -> None:
    """Raise :class:`EncodeError` with ``problem`` unless ``condition`` holds.

    Used by ``__post_init__`` range checks: a value that fails one cannot be put on the wire.
    """
    if not condition:
        raise EncodeError(problem)


def check_uint(name: str, value: int, maximum: int, minimum: int = 0) -> None:
    """Check that ``value`` is an ``int`` in ``minimum..maximum``."""
    check(
        isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum,
        f"{name} must be an integer in {minimum}..{maximum}, got {value!r}",
    )


def build(reader: Reader, make: Callable[[], T]) -> T:
    """Call ``make`` (a value's constructor), reporting a failed range check as a decode error.

    A decoder builds its frozen value through here so that a field the bytes carry but the
    value rejects (an out-of-range number) surfaces as :class:`DecodeError`, not as
    :class:`EncodeError`.
    """
    try:
        return make()
    except EncodeError as exc:
        raise DecodeError(reader.what, str(exc)) from exc


def utf8_prefix(text: str, max_bytes: int) -> bytes:
    """The longest prefix of ``text`` whose UTF-8 form fits ``max_bytes``, cut between chars."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return raw
    # Drop continuation bytes (10xxxxxx) at the cut so a character is never split.
    cut = max_bytes
    while cut > 0 and raw[cut] & 0xC0 == 0x80:
        cut -= 1
    return raw[:cut]
