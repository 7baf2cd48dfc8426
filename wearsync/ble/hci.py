"""What names an HCI transport, for every layer: the BLE facade's own types, free of bumble.

An HCI transport is a bumble transport string (``tcp-client:127.0.0.1:PORT`` for ``wearsync
sim``, ``usb:0`` for a dongle) or an in-process factory such as the simulator's
:class:`~wearsync.sim.link.VirtualLink`. Importing this module loads neither bleak nor bumble;
:func:`open_hci` and :func:`just_works_pairing` import bumble when called.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from bumble.device import Connection
    from bumble.pairing import PairingConfig
    from bumble.transport.common import Transport


#: Environment variable naming the HCI transport when none is passed explicitly.
HCI_ENV_VAR = "WEARSYNC_HCI"


@runtime_checkable
class HciTransportFactory(Protocol):
    """An in-process source of HCI transports, e.g. :class:`wearsync.sim.link.VirtualLink`.

    Each call must return a transport to a controller of its own.
    """

    async def open_hci_transport(self) -> Transport:
        """Open a transport to a fresh controller."""
        ...


#: A bumble transport string (``tcp-client:127.0.0.1:PORT``, ``usb:0``) or an in-process factory.
HciSpec = str | HciTransportFactory


def resolve_hci_spec(hci_spec: HciSpec | None) -> HciSpec:
    """Use ``hci_spec`` if given, else ``$WEARSYNC_HCI``.

    Raises:
        BumbleTransportError: neither is set.
    """
    if hci_spec is not None:
        return hci_spec
    from_env = os.environ.get(HCI_ENV_VAR)
    if from_env:
        return from_env
    from wearsync.ble.bumble_backend.exc import BumbleTransportError

    raise BumbleTransportError("", f"no HCI transport given and ${HCI_ENV_VAR} is not set")


def describe_hci_spec(hci_spec: HciSpec) -> str:
    """A printable name for a spec."""
    return hci_spec if isinstance(hci_spec, str) else type(hci_spec).__name__


async def open_hci(hci_spec: HciSpec) -> Transport:
    """Open an HCI transport from a string spec or an in-process factory.

    Raises:
        BumbleTransportError: the transport could not be opened.
    """
    from wearsync.ble.bumble_backend.central import open_hci as open_with_bumble

    return await open_with_bumble(hci_spec)


def just_works_pairing(connection: Connection | None = None) -> PairingConfig:
    """LE Secure Connections, Just Works, with bonding (see the bumble backend)."""
    from wearsync.ble.bumble_backend.central import just_works_pairing as pairing_config

    return pairing_config(connection)
