"""What every simulated watch offers ``wearsync sim``: one way to start it, stop it and show it.

Each watch family declares its simulators (a :class:`Simulator` per kind of watch it can play)
in its ``FAMILY``; the CLI starts the one named by ``--watch`` on a virtual link served as HCI
over TCP, and prints what the simulator emits (vibrations, alerts, events) as they happen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from wearsync.errors import InputError
from wearsync.sim.wearer import Wearer

if TYPE_CHECKING:
    # Only a field's type: importing it would load bumble on every CLI command's start-up.
    from wearsync.sim.link import VirtualLink

#: Receives one JSON-able line per thing the watch does: ``{"type": "vibration", ...}``.
Emit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class SimOptions:
    """How ``wearsync sim`` wants the watch.

    Attributes:
        link: the virtual radio to advertise on.
        flash_dir: where the watch keeps what survives a restart.
        speed: watch time per real time.
        wearer: what the simulated wearer does (families without a scripted wearer accept only
            the default).
        name: the advertised name, or ``None`` for the watch's own default.
        features: a reduced feature mask (timer-service watches), or ``None`` for all.
        emit: where the watch's vibrations, alerts and events go.
        hci_port: the TCP port the link is served on (127.0.0.1), for a watch that runs as a
            process of its own and joins the link as an HCI client (the NimBLE firmware).
    """

    link: VirtualLink
    flash_dir: Path
    speed: float
    wearer: Wearer
    name: str | None
    features: int | None
    emit: Emit
    hci_port: int | None = None


class SimulatedWatch(Protocol):
    """A running simulated watch."""

    @property
    def name(self) -> str:
        """The advertised name."""
        ...

    @property
    def address(self) -> str:
        """The address it advertises with."""
        ...

    def summary(self) -> dict[str, Any]:
        """What it holds now (program, unacknowledged events, boot), for the ready/stop lines."""
        ...

    async def close(self) -> None:
        """Switch it off."""
        ...


class _Powered(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def address(self) -> str: ...

    async def close(self) -> None: ...


class RunningWatch:
    """A simulated watch seen through :class:`SimulatedWatch`: name, address and close come from
    the watch it wraps; a family adds its own :meth:`summary`."""

    def __init__(self, watch: _Powered) -> None:
        self._watch = watch

    @property
    def name(self) -> str:
        """The advertised name."""
        return self._watch.name

    @property
    def address(self) -> str:
        """The address it advertises with."""
        return self._watch.address

    def summary(self) -> dict[str, Any]:
        """What it holds now; nothing unless the family says more."""
        return {}

    async def close(self) -> None:
        """Switch it off."""
        await self._watch.close()


@dataclass(frozen=True)
class Simulator:
    """One kind of simulated watch a family can play.

    Attributes:
        name: what ``wearsync sim --watch`` calls it (a profile id it matches).
        description: one line for ``wearsync sim --help``.
        start: boots it with the given options.
    """

    name: str
    description: str
    start: Callable[[SimOptions], Awaitable[SimulatedWatch]]


def refuse_options(options: SimOptions, what: str, *, wearer: bool, features: bool) -> None:
    """Reject options a simulator cannot honour, in one line.

    Raises:
        InputError: a wearer script or a feature mask was given to a watch without them.
    """
    if not wearer and str(options.wearer) != str(Wearer()):
        raise InputError(f"--wearer: {what} has no scripted wearer")
    if not features and options.features is not None:
        raise InputError(f"--features: {what} has no timer-service feature bits")
