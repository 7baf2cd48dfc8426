"""An integer enum that keeps values it does not know.

Wire enums grow: a newer watch may send an event kind or state this version has never heard
of. Crashing on it would lose the rest of the batch, so an unknown value becomes a pseudo-member
that compares, hashes and encodes as its integer (``docs/protocol.md`` §3.3).
"""

from __future__ import annotations

import enum
from typing import Self


class OpenIntEnum(enum.IntEnum):
    """An :class:`~enum.IntEnum` whose constructor accepts any integer.

    ``Kind(0x42)`` returns the member if one has that value, else a pseudo-member named
    ``Kind_0x42`` for which :attr:`known` is ``False``.
    """

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        pseudo = int.__new__(cls, value)
        pseudo._name_ = f"{cls.__name__}_0x{value:02X}"
        pseudo._value_ = value
        # Cache it so that the same unknown value always gives the same object.
        return cls._value2member_map_.setdefault(value, pseudo)  # type: ignore[return-value]

    @property
    def known(self) -> bool:
        """Whether this value is one the enum defines."""
        return self._name_ in type(self).__members__
