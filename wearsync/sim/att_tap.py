"""Count every ATT PDU a simulated device sends and receives, and cut the link on cue.

The tap sits on the :class:`~wearsync.sim.link.VirtualLink`, i.e. on the air between the
controllers, so it sees exactly what crossed the radio: no host stack is patched, and it works
the same whether the central runs in this process or in another one over the HCI server.

Counting is per connection of one *subject* device (normally the simulated watch):
``rx`` is what the subject received, ``tx`` what it sent. Fault injection drops the link right
after the k-th ATT PDU, counted in either direction: PDU k is delivered, nothing after it is,
and both sides then see a link loss (HCI reason 0x08), exactly as when the watch walks out of
range between two packets.

Example::

    tap = AttTap(link, subject=watch.device.random_address)
    ...                                    # connect, discover
    mark = tap.current.mark()
    ...                                    # one sync
    assert tap.current.since(mark).round_trips == 1
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from bumble import att, hci

from wearsync.sim.link import LinkObserver, LinkPdu, PduVerdict, VirtualLink

logger = logging.getLogger(__name__)

ATT_CID = 0x0004

Direction = Literal["rx", "tx"]


class AttKind(enum.Enum):
    """The role an ATT PDU plays (Core Vol 3, Part F, 3.3 and 3.4)."""

    REQUEST = "request"
    RESPONSE = "response"
    COMMAND = "command"
    NOTIFICATION = "notification"
    INDICATION = "indication"
    CONFIRMATION = "confirmation"


_NOTIFICATION_OPCODES = {0x1B, 0x23}  # Handle Value Notification, Multiple Handle Value Ntf
_INDICATION_OPCODE = 0x1D
_CONFIRMATION_OPCODE = 0x1E
_COMMAND_FLAG = 0x40


def classify_opcode(opcode: int) -> AttKind:
    """Tell the kind of an ATT PDU from its opcode.

    Commands have the command flag (bit 6) set; otherwise requests are even and responses odd,
    apart from notifications, indications and confirmations.
    """
    if opcode & _COMMAND_FLAG:
        return AttKind.COMMAND
    if opcode in _NOTIFICATION_OPCODES:
        return AttKind.NOTIFICATION
    if opcode == _INDICATION_OPCODE:
        return AttKind.INDICATION
    if opcode == _CONFIRMATION_OPCODE:
        return AttKind.CONFIRMATION
    return AttKind.RESPONSE if opcode & 1 else AttKind.REQUEST


def opcode_name(opcode: int) -> str:
    """The spec name of an ATT opcode, e.g. ``ATT_READ_REQUEST``."""
    try:
        return att.Opcode(opcode).name
    except ValueError:
        return f"ATT_0x{opcode:02X}"


@dataclass(frozen=True)
class AttPdu:
    """One ATT PDU seen on the air.

    Attributes:
        index: 1-based position within its connection, both directions together.
        direction: ``rx`` if the subject received it, ``tx`` if the subject sent it.
        opcode: the ATT opcode.
        kind: request, response, command, notification, indication or confirmation.
        size: ATT PDU length in bytes (opcode and parameters).
        time: event loop time when it went on the air.
    """

    index: int
    direction: Direction
    opcode: int
    kind: AttKind
    size: int
    time: float

    @property
    def name(self) -> str:
        """The opcode's spec name."""
        return opcode_name(self.opcode)


@dataclass
class AttCounts:
    """Counts over a run of ATT PDUs; what a sync costs on the air."""

    pdus: list[AttPdu] = field(default_factory=list)

    def count(
        self,
        kind: AttKind | None = None,
        *,
        direction: Direction | None = None,
        opcode: int | None = None,
    ) -> int:
        """Count PDUs matching every given filter."""
        return sum(
            1
            for pdu in self.pdus
            if (kind is None or pdu.kind is kind)
            and (direction is None or pdu.direction == direction)
            and (opcode is None or pdu.opcode == opcode)
        )

    @property
    def total(self) -> int:
        """All ATT PDUs."""
        return len(self.pdus)

    @property
    def requests(self) -> int:
        """Requests (each costs one round trip)."""
        return self.count(AttKind.REQUEST)

    @property
    def responses(self) -> int:
        """Responses, error responses included."""
        return self.count(AttKind.RESPONSE)

    @property
    def commands(self) -> int:
        """Write commands (write without response)."""
        return self.count(AttKind.COMMAND)

    @property
    def notifications(self) -> int:
        """Handle value notifications."""
        return self.count(AttKind.NOTIFICATION)

    @property
    def indications(self) -> int:
        """Handle value indications (each costs one round trip)."""
        return self.count(AttKind.INDICATION)

    @property
    def round_trips(self) -> int:
        """Exchanges that wait for the peer: requests plus indications."""
        return self.requests + self.indications

    @property
    def bytes_on_air(self) -> int:
        """ATT bytes carried, both directions (L2CAP and LL overhead excluded)."""
        return sum(pdu.size for pdu in self.pdus)

    def by_opcode(self) -> Counter[str]:
        """How many PDUs of each opcode, by spec name."""
        return Counter(pdu.name for pdu in self.pdus)


@dataclass
class ConnectionTrace(AttCounts):
    """The ATT PDUs of one connection of the subject.

    Attributes:
        peer: the address of the other end.
        cut: whether the tap cut this connection.
    """

    peer: str = ""
    cut: bool = False

    def mark(self) -> int:
        """A bookmark to pass to :meth:`since`."""
        return len(self.pdus)

    def since(self, mark: int) -> AttCounts:
        """The PDUs after a :meth:`mark`."""
        return AttCounts(self.pdus[mark:])


class AttTap(LinkObserver):
    """Count the ATT PDUs of a subject device on a link and inject link loss.

    Args:
        link: the virtual link to watch.
        subject: the address of the device whose traffic is counted (normally the simulated
            watch). ``None`` counts every connection, seen from its peripheral side.
    """

    def __init__(self, link: VirtualLink, subject: hci.Address | str | None = None) -> None:
        self.link = link
        # A string without the "/P" suffix is a random address, as bumble writes them.
        self.subject = (
            subject if subject is None or isinstance(subject, hci.Address) else hci.Address(subject)
        )
        self.connections: list[ConnectionTrace] = []
        self.cuts = 0
        self._traces: dict[int, tuple[object, ConnectionTrace]] = {}
        self._cut_countdown: int | None = None
        self._cut_event = asyncio.Event()
        link.observers.append(self)

    # -- results --------------------------------------------------------------------------

    @property
    def current(self) -> ConnectionTrace:
        """The trace of the latest connection (an empty one if none happened yet)."""
        if not self.connections:
            return ConnectionTrace()
        return self.connections[-1]

    def total(self) -> AttCounts:
        """Every ATT PDU over all connections so far."""
        return AttCounts([pdu for trace in self.connections for pdu in trace.pdus])

    def reset(self) -> None:
        """Forget all traces (the fault injection setting is kept)."""
        self.connections.clear()
        self._traces.clear()

    # -- fault injection ------------------------------------------------------------------

    def cut_after(self, k: int) -> None:
        """Drop the link right after the k-th ATT PDU from now, counted in either direction.

        PDU k is delivered; later PDUs already in flight are discarded and both ends see a
        link loss. The countdown carries across connections and fires once.

        Args:
            k: how many more ATT PDUs may cross (1 = cut right after the next one).
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        self._cut_countdown = k
        self._cut_event.clear()

    def disarm(self) -> None:
        """Cancel a pending :meth:`cut_after`."""
        self._cut_countdown = None

    @property
    def armed(self) -> bool:
        """Whether a cut is still pending."""
        return self._cut_countdown is not None

    async def wait_for_cut(self) -> None:
        """Wait until an armed cut has happened."""
        await self._cut_event.wait()

    def close(self) -> None:
        """Stop watching the link."""
        if self in self.link.observers:
            self.link.observers.remove(self)

    # -- LinkObserver ---------------------------------------------------------------------

    def on_link_pdu(self, pdu: LinkPdu) -> PduVerdict:
        """Count an ATT PDU of the subject; say whether to deliver it or cut after it."""
        located = self._locate(pdu)
        if located is None:
            return PduVerdict.DELIVER
        trace, direction = located
        if trace.cut:
            return PduVerdict.DROP  # in flight when the link was cut: it never arrives
        if pdu.cid != ATT_CID or not pdu.payload:
            return PduVerdict.DELIVER
        opcode = pdu.payload[0]
        trace.pdus.append(
            AttPdu(
                index=len(trace.pdus) + 1,
                direction=direction,
                opcode=opcode,
                kind=classify_opcode(opcode),
                size=len(pdu.payload),
                time=asyncio.get_running_loop().time(),
            )
        )
        if self._cut_countdown is None:
            return PduVerdict.DELIVER
        self._cut_countdown -= 1
        if self._cut_countdown > 0:
            return PduVerdict.DELIVER
        self._cut_countdown = None
        trace.cut = True
        self.cuts += 1
        self._cut_event.set()
        logger.info(
            "cutting link to %s after ATT PDU %d (%s)",
            trace.peer,
            len(trace.pdus),
            opcode_name(opcode),
        )
        return PduVerdict.DELIVER_THEN_CUT

    def _locate(self, pdu: LinkPdu) -> tuple[ConnectionTrace, Direction] | None:
        # The subject-side controller connection identifies a connection: a new one is
        # created for every link-layer connection.
        sender_conn, receiver_conn = pdu.sender_connection, pdu.receiver_connection
        if self.subject is None:
            sender_is_subject = sender_conn.role == hci.Role.PERIPHERAL
        elif sender_conn.self_address == self.subject:
            sender_is_subject = True
        elif receiver_conn.self_address == self.subject:
            sender_is_subject = False
        else:
            return None
        subject_conn = sender_conn if sender_is_subject else receiver_conn
        entry = self._traces.get(id(subject_conn))
        if entry is None or entry[0] is not subject_conn:
            trace = ConnectionTrace(peer=str(subject_conn.peer_address))
            self._traces[id(subject_conn)] = (subject_conn, trace)
            self.connections.append(trace)
        else:
            trace = entry[1]
        return trace, ("tx" if sender_is_subject else "rx")
