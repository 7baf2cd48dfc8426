"""Program transfer: offset-addressed chunks, and the watch's staging rules (§6).

A client cuts encoded program bytes into :class:`ProgramChunk` writes with
:func:`program_chunks`. A watch (real or simulated) feeds each received chunk to
:meth:`Staging.accept` and a COMMIT to :meth:`Staging.commit`; both are pure, return a new
state or raise :class:`AttError` with the code the watch answers with, so every implementation
of the service applies the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Self

from wearsync.protocol.errors import DecodeError, UnsupportedVersionError
from wearsync.protocol.wire import U16_MAX, Reader, Writer, build, check, check_uint
from wearsync.watches.wearsync_timer.codec.errors import AttError, AttErrorCode
from wearsync.watches.wearsync_timer.codec.program import PROGRAM_FORMATS, WireProgram, program_crc

#: Bytes of a chunk before its data: total length u16, offset u16 (§6.1).
CHUNK_HEADER_SIZE: Final = 4
#: ATT_MTU before any exchange, and the largest one ATT allows.
DEFAULT_ATT_MTU: Final = 23
MAX_ATT_MTU: Final = 517
#: GATT caps any attribute value at 512 bytes, whatever the MTU.
MAX_ATTRIBUTE_SIZE: Final = 512


@dataclass(frozen=True)
class ProgramChunk:
    """One write to the Program characteristic (§6.1).

    Attributes:
        total_length: length of the whole program, 1..65535; the same in every chunk.
        offset: where ``data`` goes in the program; 0 starts a new staging.
        data: 1 or more program bytes, not running past ``total_length``.
    """

    total_length: int
    offset: int
    data: bytes

    def __post_init__(self) -> None:
        check_uint("total length", self.total_length, U16_MAX, minimum=1)
        check_uint("offset", self.offset, U16_MAX)
        check(isinstance(self.data, bytes) and len(self.data) >= 1, "a chunk carries data")
        check(
            self.offset + len(self.data) <= self.total_length,
            "chunk runs past the total length",
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a Program characteristic write (§6.1).

        Raises:
            DecodeError: fewer than 5 bytes, or the fields are inconsistent.
        """
        r = Reader(data, "program chunk")
        total, offset = r.u16(), r.u16()
        body = r.rest()
        return build(r, lambda: cls(total, offset, body))

    def __bytes__(self) -> bytes:
        return bytes(Writer().u16(self.total_length).u16(self.offset).raw(self.data))


def chunk_capacity(mtu: int) -> int:
    """Program bytes one write carries at ATT_MTU ``mtu`` (§6.1): MTU - 3 - 4, at most 508."""
    if not DEFAULT_ATT_MTU <= mtu <= MAX_ATT_MTU:
        raise ValueError(f"ATT_MTU {mtu} is outside {DEFAULT_ATT_MTU}..{MAX_ATT_MTU}")
    return min(mtu - 3, MAX_ATTRIBUTE_SIZE) - CHUNK_HEADER_SIZE


def program_chunks(program: bytes, mtu: int) -> tuple[ProgramChunk, ...]:
    """Cut encoded ``program`` into the writes that stage it at ATT_MTU ``mtu`` (§6.2).

    Raises:
        ValueError: ``program`` is empty or over 65535 bytes, or ``mtu`` is out of range.
    """
    if not 1 <= len(program) <= U16_MAX:
        raise ValueError(f"a program is 1..{U16_MAX} bytes, got {len(program)}")
    size = chunk_capacity(mtu)
    return tuple(
        ProgramChunk(len(program), offset, program[offset : offset + size])
        for offset in range(0, len(program), size)
    )


@dataclass(frozen=True)
class Staging:
    """The watch's staging buffer (§6.2-§6.4); the committed program lives elsewhere.

    Attributes:
        total_length: the length announced by the chunk at offset 0; 0 when nothing is staged.
        data: the bytes received so far, contiguous from offset 0.
    """

    total_length: int = 0
    data: bytes = b""

    @property
    def complete(self) -> bool:
        """Whether every byte of the announced program has arrived."""
        return self.total_length > 0 and len(self.data) == self.total_length

    def accept(self, chunk: ProgramChunk, *, max_length: int) -> Staging:
        """The staging after a Program write of ``chunk`` (§6.2).

        Raises:
            AttError: ``PROGRAM_TOO_LARGE`` or ``BAD_OFFSET``; the staging is then unchanged.
        """
        if chunk.offset == 0:
            if chunk.total_length > max_length:
                raise AttError(
                    AttErrorCode.PROGRAM_TOO_LARGE,
                    f"{chunk.total_length} bytes, the watch stores {max_length}",
                )
            return Staging(chunk.total_length, chunk.data)
        if chunk.total_length != self.total_length or chunk.offset != len(self.data):
            raise AttError(
                AttErrorCode.BAD_OFFSET,
                f"chunk at {chunk.offset} of {chunk.total_length}; "
                f"staged {len(self.data)} of {self.total_length}",
            )
        return Staging(self.total_length, self.data + chunk.data)

    def commit(
        self, crc32: int, formats: tuple[int, ...] = PROGRAM_FORMATS
    ) -> tuple[bytes, WireProgram]:
        """Check the staged program for COMMIT (§6.3) and return its bytes and decoded form.

        This covers checks 2-6 of §6.3; the caller checks first that no session is active
        (``SESSION_ACTIVE``). Whatever the outcome the caller then discards the staging
        (§6.2), and on success makes the returned program its committed one, durably, before
        it answers the write (§6.4). ``formats`` are the program formats the watch runs
        (format 2 only with feature ENTRIES, §3.4).

        Raises:
            AttError: ``NOTHING_STAGED``, ``STAGING_INCOMPLETE``, ``CRC_MISMATCH``,
                ``PROGRAM_VERSION_UNSUPPORTED`` or ``PROGRAM_INVALID``.
        """
        if self.total_length == 0:
            raise AttError(AttErrorCode.NOTHING_STAGED)
        if not self.complete:
            raise AttError(
                AttErrorCode.STAGING_INCOMPLETE, f"{len(self.data)} of {self.total_length} bytes"
            )
        actual = program_crc(self.data)
        if actual != crc32:
            raise AttError(
                AttErrorCode.CRC_MISMATCH, f"staged 0x{actual:08X}, COMMIT 0x{crc32:08X}"
            )
        if self.data[0] not in formats:
            raise AttError(
                AttErrorCode.PROGRAM_VERSION_UNSUPPORTED, f"program format {self.data[0]}"
            )
        try:
            program = WireProgram.from_bytes(self.data)
        except UnsupportedVersionError as exc:
            raise AttError(AttErrorCode.PROGRAM_VERSION_UNSUPPORTED, exc.problem) from exc
        except DecodeError as exc:
            raise AttError(AttErrorCode.PROGRAM_INVALID, exc.problem) from exc
        return self.data, program
