"""The Database Hash of a peer computed from its attributes (Core 5.1 Vol 3 Part G §7.3.1).

What a peer serves in its Database Hash characteristic (0x2B2A) can be checked against this:
AES-CMAC with a zero key over, in handle order, the handle, type and value of every service,
include and characteristic declaration and Characteristic Extended Properties descriptor, and
the handle and type of every other descriptor the section names. The result is a uint128, sent
least significant octet first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from bumble.crypto.builtin import aes_cmac
from bumble.gatt_client import Client

#: Primary, secondary, include, characteristic declarations; Characteristic Extended Properties.
HASHED_WITH_VALUE: Final = frozenset({0x2800, 0x2801, 0x2802, 0x2803, 0x2900})
#: User Description, CCCD, SCCD, Presentation Format, Aggregate Format: handle and type only.
HASHED_WITHOUT_VALUE: Final = frozenset(range(0x2901, 0x2906))


@dataclass(frozen=True)
class HashedAttribute:
    """One attribute as the hash sees it (``value`` empty where only the type counts)."""

    handle: int
    type: int
    value: bytes = b""


def database_hash(attributes: Iterable[HashedAttribute]) -> bytes:
    """The Database Hash of these attributes (the others are ignored), as served."""
    message = b"".join(
        a.handle.to_bytes(2, "little")
        + a.type.to_bytes(2, "little")
        + (a.value if a.type in HASHED_WITH_VALUE else b"")
        for a in sorted(attributes, key=lambda a: a.handle)
        if a.type in HASHED_WITH_VALUE or a.type in HASHED_WITHOUT_VALUE
    )
    # bumble's pure-Python RFC 4493 CMAC (always present, whichever crypto backend it uses).
    return bytes(aes_cmac(message, bytes(16))[::-1])


async def read_hashed_attributes(client: Client) -> list[HashedAttribute]:
    """Every attribute the hash covers, by a full discovery: Find Information over all
    handles, then a Read of each one whose value counts. Slow (one request per declaration):
    for checking a peer, not for every connection."""
    found: list[HashedAttribute] = []
    for proxy in await client.discover_attributes():
        raw = proxy.type.to_bytes()
        if len(raw) != 2:
            continue  # a 128-bit type is a characteristic value: not hashed
        kind = int.from_bytes(raw, "little")
        if kind in HASHED_WITH_VALUE:
            value = bytes(await client.read_value(proxy.handle, no_long_read=True))
            found.append(HashedAttribute(proxy.handle, kind, value))
        elif kind in HASHED_WITHOUT_VALUE:
            found.append(HashedAttribute(proxy.handle, kind))
    return found
