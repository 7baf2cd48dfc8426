"""The virtual radio: a bumble ``LocalLink`` with controllers that behave like real ones.

Every simulated device, the watch and each central, gets its own :class:`LinkController` on
one shared :class:`VirtualLink`. In one process a bumble ``Host`` talks to its controller
through in-memory pipes (:meth:`VirtualLink.open_hci_transport`); across processes the
:class:`~wearsync.sim.hci_server.HciServer` hands each TCP client a controller on the same link.

What the stock bumble pieces lack, and this module adds:

* LE Create Connection Cancel is answered with a failed LE Connection Complete event, as a
  real controller does, so ``Device.connect(timeout=...)`` returns instead of hanging and no
  zombie connection appears later.
* 251-byte LE ACL buffers and data length, so bulk transfers are not cut into 27-byte pieces.
* :meth:`VirtualLink.drop_connection` severs a connection as a radio loss would (both sides see
  reason 0x08, connection timeout), which the HCI server uses when a client process dies and the
  ATT tap uses for fault injection.
* An optional link model: with ``connection_event_ms`` set, every data or LL control PDU is held
  until the next connection event, so counts of round trips become realistic latencies.
* Observers (:class:`LinkObserver`) that see every L2CAP PDU on the air and may drop it or cut
  the link after it; :mod:`wearsync.sim.att_tap` builds on this.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bumble import controller as bumble_controller
from bumble import hci, ll
from bumble.core import PhysicalTransport
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink, Transport

from wearsync.sim.air import AirLog

logger = logging.getLogger(__name__)

#: Reason code a link loss reports (HCI "Connection Timeout", i.e. supervision timeout).
LINK_LOSS_REASON = hci.HCI_CONNECTION_TIMEOUT_ERROR

#: Legacy advertising PDUs (and scan responses) carry at most this much data.
LEGACY_ADV_MAX = 31
#: LE Set Scan Parameters' scan type for active scanning (scan requests are sent).
_ACTIVE_SCAN = 1

#: LE ACL payload size the virtual controllers report (the LE data length maximum).
LE_ACL_PACKET_LENGTH = 251

_public_address_counter = itertools.count(1)


def _name(address: hci.Address) -> str:
    return address.to_string(with_type_qualifier=False)


def _next_public_address() -> hci.Address:
    # Distinct public addresses keep link lookups unambiguous; nobody connects to them because
    # every device here advertises and connects with its random (static) address.
    n = next(_public_address_counter)
    return hci.Address(f"00:5E:A5:{(n >> 16) & 0xFF:02X}:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}")


class LinkController(bumble_controller.Controller):
    """A virtual controller that cancels connections and reports full-size LE buffers."""

    le_acl_data_packet_length = LE_ACL_PACKET_LENGTH
    supported_max_tx_octets = LE_ACL_PACKET_LENGTH
    supported_max_rx_octets = LE_ACL_PACKET_LENGTH
    suggested_max_tx_octets = LE_ACL_PACKET_LENGTH

    def __init__(self, name: str, link: VirtualLink) -> None:
        super().__init__(name, link=link, public_address=_next_public_address())
        self.virtual_link = link

    def on_hci_le_create_connection_cancel_command(
        self, command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Cancel a pending LE connection (Core Vol 4, Part E, 7.8.13).

        The stock controller answers success but never ends the pending connection, so the
        host waits forever and the connection may still complete later (a zombie).
        """
        del command
        pending = self.pending_le_connection
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        self.virtual_link.air.initiating(_name(self.random_address), False)

        def report_cancelled() -> None:
            # Sent after the Command Complete event, as the spec orders them.
            self.send_hci_packet(
                hci.HCI_LE_Connection_Complete_Event(
                    status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                    connection_handle=0,
                    role=hci.Role.CENTRAL,
                    peer_address_type=pending.peer_address_type,
                    peer_address=pending.peer_address,
                    connection_interval=0,
                    peripheral_latency=0,
                    supervision_timeout=0,
                    central_clock_accuracy=0,
                )
            )

        asyncio.get_running_loop().call_soon(report_cancelled)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    def on_advertising_pdu(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        """Report an advertisement, and its real scan response only to an active scan.

        The stock controller repeats the advertising data as the scan response, so a name put
        in the scan response (as a real peripheral must, when flags and a 128-bit UUID fill the
        31 bytes) would never be seen. Here an active scanner gets what the advertiser set as
        its scan response data (LE Set Scan Response Data, or the advertising set's), as the
        SCAN_REQ/SCAN_RSP exchange of a real radio gives it; a passive scanner gets the
        advertising data alone.
        """
        if isinstance(pdu, ll.AdvExtInd) and (
            pdu.periodic_advertising_data is not None or self.pending_periodic_advertising_syncs
        ):
            super().on_advertising_pdu(pdu)  # periodic advertising: the stock behaviour
            return
        if self.le_scan_enable:
            self._report(pdu, pdu.data, response=False)
            if self.le_scan_type == _ACTIVE_SCAN:
                response = self._scan_response_of(pdu)
                self.virtual_link.air.scan_request(
                    _name(self.random_address), _name(pdu.advertiser_address), len(response)
                )
                self._report(pdu, response, response=True)
        pending = self.pending_le_connection
        if pending is not None and pending.peer_address == pdu.advertiser_address:
            self.create_le_connection(pdu.advertiser_address)

    def _scan_response_of(self, pdu: ll.AdvInd | ll.AdvExtInd) -> bytes:
        advertiser = self.virtual_link.find_le_controller(pdu.advertiser_address)
        if advertiser is None:
            return b""
        if isinstance(pdu, ll.AdvInd):
            return bytes(advertiser.le_legacy_advertiser.scan_response_data)
        for advertising_set in advertiser.advertising_sets.values():
            sid = advertising_set.parameters.advertising_sid if advertising_set.parameters else 0
            if sid == pdu.sid and advertising_set.address == pdu.advertiser_address:
                return bytes(advertising_set.scan_response_data)
        return b""

    def _report(self, pdu: ll.AdvInd | ll.AdvExtInd, data: bytes, *, response: bool) -> None:
        address = pdu.advertiser_address
        if self.le_features & hci.LeFeatureMask.LE_EXTENDED_ADVERTISING:
            kinds = hci.HCI_LE_Extended_Advertising_Report_Event.EventType
            target = pdu.target_address if isinstance(pdu, ll.AdvExtInd) else None
            # A connectable, scannable advertisement (a legacy ADV_IND, or one sent with legacy
            # PDUs): the scanner then waits for the scan response before reporting the device.
            event = kinds.CONNECTABLE_ADVERTISING | kinds.SCANNABLE_ADVERTISING
            if isinstance(pdu, ll.AdvInd):
                event |= kinds.LEGACY_ADVERTISING_PDU_USED
            if response:
                event |= kinds.SCAN_RESPONSE
            report = hci.HCI_LE_Extended_Advertising_Report_Event.Report(
                event_type=event,
                address_type=address.address_type,
                address=address,
                primary_phy=hci.Phy.LE_1M,
                secondary_phy=hci.Phy.LE_1M,
                advertising_sid=0,
                tx_power=0,
                rssi=-50,
                periodic_advertising_interval=0,
                direct_address_type=target.address_type if target else 0,
                direct_address=target or hci.Address.ANY,
                data=data,
            )
            self.send_hci_packet(hci.HCI_LE_Extended_Advertising_Report_Event([report]))
            return
        legacy = hci.HCI_LE_Advertising_Report_Event.EventType
        self.send_hci_packet(
            hci.HCI_LE_Advertising_Report_Event(
                [
                    hci.HCI_LE_Advertising_Report_Event.Report(
                        event_type=legacy.SCAN_RSP if response else legacy.ADV_IND,
                        address_type=address.address_type,
                        address=address,
                        data=data,
                        rssi=-50,
                    )
                ]
            )
        )

    def on_hci_le_set_extended_scan_parameters_command(
        self, command: hci.HCI_LE_Set_Extended_Scan_Parameters_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Remember whether the scan is active (the stock controller keeps only legacy's)."""
        result = super().on_hci_le_set_extended_scan_parameters_command(command)
        if result.status == hci.HCI_ErrorCode.SUCCESS and command.scan_types:
            self.le_scan_type = command.scan_types[0]
        return result

    # -- what the air log records (wearsync.sim.air) -----------------------------------

    def on_hci_le_set_scan_enable_command(
        self, command: hci.HCI_LE_Set_Scan_Enable_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Scan on or off, and record it with its type (active or passive)."""
        result = super().on_hci_le_set_scan_enable_command(command)
        self._record_scan()
        return result

    def on_hci_le_set_extended_scan_enable_command(
        self, command: hci.HCI_LE_Set_Extended_Scan_Enable_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Scan on or off (extended), and record it with its type."""
        result = super().on_hci_le_set_extended_scan_enable_command(command)
        self._record_scan()
        return result

    def _record_scan(self) -> None:
        self.virtual_link.air.scan_enabled(
            _name(self.random_address),
            self.le_scan_enable,
            active=self.le_scan_type == _ACTIVE_SCAN,
        )

    def on_hci_le_create_connection_command(
        self, command: hci.HCI_LE_Create_Connection_Command
    ) -> None:
        """Start initiating (the receiver listens for the peer), and record it."""
        super().on_hci_le_create_connection_command(command)
        if self.pending_le_connection is command:
            self.virtual_link.air.initiating(_name(self.random_address), True)

    def on_hci_le_extended_create_connection_command(
        self, command: hci.HCI_LE_Extended_Create_Connection_Command
    ) -> None:
        """Start initiating (extended), and record it."""
        super().on_hci_le_extended_create_connection_command(command)
        if self.pending_le_connection is command:
            self.virtual_link.air.initiating(_name(self.random_address), True)

    def create_le_connection(self, peer_address: hci.Address) -> None:
        """Connect (a CONNECT_IND on air), and record the connection."""
        pending = self.pending_le_connection
        super().create_le_connection(peer_address)
        if pending is None or peer_address not in self.le_connections:
            return
        air = self.virtual_link.air
        air.initiating(_name(self.random_address), False)
        interval = (
            pending.connection_interval_mins[0]
            if isinstance(pending, hci.HCI_LE_Extended_Create_Connection_Command)
            else pending.connection_interval_min
        )
        grid = self.virtual_link.connection_event_s
        air.connected(
            _name(self.random_address),
            _name(peer_address),
            grid if grid is not None else interval * 1.25e-3,
        )

    def on_le_disconnected(self, connection: bumble_controller.Connection, reason: int) -> None:
        """A link went down: the air log closes its connection."""
        self.virtual_link.air.disconnected(
            _name(self.random_address), _name(connection.peer_address)
        )
        super().on_le_disconnected(connection, reason)

    def on_le_encryption_change(
        self, connection: bumble_controller.Connection, status: int
    ) -> None:
        """Encryption started: later PDUs carry a MIC in the air log."""
        if status == hci.HCI_ErrorCode.SUCCESS:
            self.virtual_link.air.encrypted(
                _name(self.random_address), _name(connection.peer_address)
            )
        super().on_le_encryption_change(connection, status)

    def on_hci_le_set_advertising_data_command(
        self, command: hci.HCI_LE_Set_Advertising_Data_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Refuse more than the 31 bytes a legacy PDU carries (Core Vol 4, Part E, 7.8.7)."""
        if len(command.advertising_data) > LEGACY_ADV_MAX:
            return hci.HCI_StatusReturnParameters(
                hci.HCI_ErrorCode(hci.HCI_INVALID_HCI_COMMAND_PARAMETERS_ERROR)
            )
        return super().on_hci_le_set_advertising_data_command(command)

    def detach(self) -> None:
        """Take this controller off the air: stop advertising, drop every link, leave the link.

        Used when the host behind it goes away (a closed transport or a dead client process),
        so peers see a link loss and the shared link is clean for the next run.
        """
        self.host = None
        self.pending_le_connection = None
        self.le_legacy_advertiser.stop()
        for advertising_set in self.advertising_sets.values():
            advertising_set.stop()
        for connection in list(self.le_connections.values()):
            self.virtual_link.drop_connection(self, connection.peer_address)
        if self in self.virtual_link.controllers:
            self.virtual_link.remove_controller(self)
        if not self.terminated.done():
            self.terminated.set_result(None)


class PduVerdict(enum.Enum):
    """What a :class:`LinkObserver` wants done with a PDU."""

    DELIVER = "deliver"
    DROP = "drop"
    DELIVER_THEN_CUT = "deliver_then_cut"


@dataclass(frozen=True)
class LinkPdu:
    """One L2CAP PDU on the air between two connected controllers.

    Attributes:
        sender: the controller that transmitted it.
        receiver: the controller it is addressed to.
        sender_connection: the sender's controller-side connection.
        receiver_connection: the receiver's controller-side connection.
        cid: the L2CAP channel id (4 is ATT, 6 is SMP).
        payload: the L2CAP payload, without the 4-byte basic header.
    """

    sender: bumble_controller.Controller
    receiver: bumble_controller.Controller
    sender_connection: bumble_controller.Connection
    receiver_connection: bumble_controller.Connection
    cid: int
    payload: bytes


class LinkObserver(Protocol):
    """Something that watches PDUs on a :class:`VirtualLink` (see :mod:`.att_tap`)."""

    def on_link_pdu(self, pdu: LinkPdu) -> PduVerdict:
        """Inspect one PDU before it is delivered and say what to do with it."""
        ...


class VirtualLink(LocalLink):
    """A shared virtual radio for bumble controllers, with an optional timing model.

    Args:
        connection_event_ms: if set, hold every data and LL control PDU until the next
            connection event on a grid of this period (a simple model of a BLE connection
            interval: a request and its response then cost one to two intervals).
    """

    def __init__(self, *, connection_event_ms: float | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if connection_event_ms is not None and connection_event_ms <= 0:
            raise ValueError("connection_event_ms must be positive")
        self.connection_event_s = None if connection_event_ms is None else connection_event_ms / 1e3
        self.observers: list[LinkObserver] = []
        #: What went on air, for radio-on time (:mod:`wearsync.sim.air`).
        self.air = AirLog()
        self._controller_names = itertools.count(1)
        self._queue: deque[tuple[float, Callable[[], None]]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._last_when = 0.0
        self._epoch: float | None = None

    # -- devices on the link ---------------------------------------------------------------

    def new_controller(self, name: str | None = None) -> LinkController:
        """Create a controller attached to this link (its host is attached by the caller)."""
        return LinkController(name or f"C{next(self._controller_names)}", self)

    async def open_hci_transport(self) -> Transport:
        """Give a new bumble ``Host`` its own controller on this link, in this process.

        This is the in-process equivalent of opening ``tcp-client:`` to the HCI server and is
        what the bleak backend calls when ``hci=`` is a :class:`VirtualLink`.

        Returns:
            A bumble transport whose ``close()`` takes the controller off the link.
        """
        return ControllerTransport(self.new_controller())

    # -- link loss ------------------------------------------------------------------------

    def drop_connection(
        self,
        controller: bumble_controller.Controller,
        peer_address: hci.Address,
        reason: int = LINK_LOSS_REASON,
    ) -> None:
        """Sever one LE connection at once, as a radio loss would, reporting ``reason`` to both.

        Args:
            controller: one end of the connection.
            peer_address: the other end's address, as ``controller`` knows it.
            reason: the HCI reason both hosts see in Disconnection Complete.
        """
        connection = controller.le_connections.get(peer_address)
        if connection is None:
            return
        peer = self.find_le_controller(peer_address)
        if peer is not None and peer is not controller:
            peer_connection = peer.le_connections.get(connection.self_address)
            if peer_connection is not None:
                peer.on_le_disconnected(peer_connection, reason)
        controller.on_le_disconnected(connection, reason)

    def drop_connections_of(
        self, address: hci.Address | str, reason: int = LINK_LOSS_REASON
    ) -> int:
        """Sever every connection of the device advertising or connecting as ``address``.

        This is "the watch walked out of range": no terminate PDU, both sides just lose
        the link. Returns how many connections were dropped.
        """
        wanted = str(address).split("/")[0].upper()
        dropped = 0
        for controller in list(self.controllers):
            for connection in list(controller.le_connections.values()):
                own = connection.self_address.to_string(with_type_qualifier=False)
                if own.upper() == wanted:
                    self.drop_connection(controller, connection.peer_address, reason)
                    dropped += 1
        return dropped

    # -- LocalLink overrides: data and control PDUs ----------------------------------------

    def send_acl_data(
        self,
        sender_controller: bumble_controller.Controller,
        destination_address: hci.Address,
        transport: PhysicalTransport,
        data: bytes,
    ) -> None:
        """Carry one L2CAP PDU to its destination, past the observers and the link model."""
        if transport != PhysicalTransport.LE:
            super().send_acl_data(sender_controller, destination_address, transport, data)
            return
        receiver = self.find_le_controller(destination_address)
        sender_connection = sender_controller.le_connections.get(destination_address)
        if receiver is None or sender_connection is None:
            logger.debug("dropping PDU to %s: no such connection", destination_address)
            return
        # The stock link identifies the sender by its random address; keep that convention.
        source_address = sender_controller.random_address
        receiver_connection = receiver.le_connections.get(source_address)
        if receiver_connection is None:
            return

        verdict = PduVerdict.DELIVER
        if self.observers and len(data) >= 4:
            pdu = LinkPdu(
                sender=sender_controller,
                receiver=receiver,
                sender_connection=sender_connection,
                receiver_connection=receiver_connection,
                cid=int.from_bytes(data[2:4], "little"),
                payload=bytes(data[4:]),
            )
            for observer in list(self.observers):
                result = observer.on_link_pdu(pdu)
                if result is PduVerdict.DROP or verdict is PduVerdict.DROP:
                    verdict = PduVerdict.DROP
                elif result is PduVerdict.DELIVER_THEN_CUT:
                    verdict = PduVerdict.DELIVER_THEN_CUT
        if verdict is PduVerdict.DROP:
            return

        self.air.data(_name(source_address), _name(destination_address), len(data))

        def deliver() -> None:
            # The connection may have been severed while the PDU was in flight.
            if receiver.le_connections.get(source_address) is receiver_connection:
                receiver.on_link_acl_data(source_address, transport, data)

        self._schedule(deliver)
        if verdict is PduVerdict.DELIVER_THEN_CUT:
            self._schedule(lambda: self.drop_connection(sender_controller, destination_address))

    def send_ll_control_pdu(
        self,
        sender_address: hci.Address,
        receiver_address: hci.Address,
        packet: ll.ControlPdu,
    ) -> None:
        """Carry one LL control PDU, in order with data PDUs; drop it if the peer is gone."""
        receiver = self.find_le_controller(receiver_address)
        if receiver is None:
            logger.debug("dropping LL control PDU to %s: peer gone", receiver_address)
            return
        self.air.control(_name(sender_address), _name(receiver_address), int(packet.opcode))
        self._schedule(lambda: receiver.on_ll_control_pdu(sender_address, packet))

    # -- the link model -------------------------------------------------------------------

    def _schedule(self, action: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        period = self.connection_event_s
        if period is None:
            loop.call_soon(action)
            return
        now = loop.time()
        if self._epoch is None:
            self._epoch = now
        # The next connection event strictly after now; never earlier than the PDU queued
        # before it, so the link stays first-in first-out.
        events_passed = math.floor((now - self._epoch) / period) + 1
        when = max(self._epoch + events_passed * period, self._last_when)
        self._last_when = when
        self._queue.append((when, action))
        if self._timer is None:
            self._timer = loop.call_at(when, self._flush)

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = None
        # asyncio may fire a timer slightly early; anything left is picked up by the re-arm.
        horizon = loop.time() + 1e-4
        while self._queue and self._queue[0][0] <= horizon:
            _, action = self._queue.popleft()
            try:
                action()
            except Exception:
                logger.exception("link delivery failed")
        if self._queue:
            self._timer = loop.call_at(self._queue[0][0], self._flush)


class ControllerTransport(Transport):
    """A bumble transport to a :class:`LinkController` in the same process.

    The host's commands reach the controller on the next loop iteration (like bytes on a
    wire would), and closing the transport takes the controller off the link.
    """

    def __init__(self, controller: LinkController) -> None:
        super().__init__(controller, AsyncPipeSink(controller))
        self.controller = controller

    async def close(self) -> None:
        """Detach the controller: peers see a link loss, advertising stops."""
        self.controller.detach()
