"""What crosses the virtual radio, recorded for a model of radio-on time.

The virtual link carries PDUs, not bits: this module keeps the facts a radio-time model needs,
as they happen on a :class:`~wearsync.sim.link.VirtualLink` (every controller on it reports
here, in ``link.air``), and the functions here turn them into time with the model below. Nothing is
estimated that the link did not see: a scan lasts from its LE Set Scan Enable to its disable,
a connection from its CONNECT_IND to its disconnection, every PDU is counted with its size.

The model (LE 1M PHY, 1 µs per bit; Core Vol 6 Part B 2.1 and 4.1):

* An LL data PDU on air is its payload plus 10 bytes (preamble 1, access address 4, header 2,
  CRC 3) plus a 4-byte MIC once the link is encrypted; an L2CAP PDU longer than the data
  length (251) travels as several LL PDUs. An LL control PDU is its opcode and CtrData.
* A connection event with nothing to send still costs an empty PDU each way and the
  inter-frame space between them: :data:`EVENT_OVERHEAD_US` (10 + 10 bytes, 150 µs). A PDU
  with data adds its bytes and one more inter-frame space. Connection events are the
  connection's duration over the connection interval (the link's event grid when it has one).
* A scanner's (or initiator's) receiver is on for as long as it scans (window = interval, as
  bumble and most centrals scan in the foreground). An active scan adds, per scannable
  advertisement received, a SCAN_REQ from the scanner and a SCAN_RSP from the advertiser.
* An advertiser spends, per advertising event, on each of its three channels an ADV_IND
  (10 + 6 + data bytes), the inter-frame space and a receive window for a request
  (:data:`ADV_LISTEN_US`); events come at its advertising interval.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

#: 1M PHY: microseconds per byte on air.
US_PER_BYTE: Final = 8
#: Preamble, access address, PDU header and CRC around every LL PDU, bytes.
LL_FRAME_OVERHEAD: Final = 10
#: Message integrity check of an encrypted LL data PDU, bytes.
MIC_BYTES: Final = 4
#: Inter-frame space, µs.
T_IFS_US: Final = 150
#: Largest LL data PDU payload the virtual controllers use (LE Data Length Extension).
LL_DATA_MAX: Final = 251
#: An empty connection event: an empty PDU each way and the inter-frame space between them.
EVENT_OVERHEAD_US: Final = 2 * LL_FRAME_OVERHEAD * US_PER_BYTE + T_IFS_US
#: Advertising channels per advertising event.
ADV_CHANNELS: Final = 3
#: What an advertiser listens after each ADV_IND for a SCAN_REQ or CONNECT_IND: T_IFS plus the
#: time to receive a request's access address and header (7 bytes).
ADV_LISTEN_US: Final = T_IFS_US + 7 * US_PER_BYTE
#: SCAN_REQ payload: scanner and advertiser addresses.
SCAN_REQ_PAYLOAD: Final = 12
#: CONNECT_IND payload (Core Vol 6 Part B 2.3.3.1).
CONNECT_IND_PAYLOAD: Final = 34
#: LL control PDU CtrData sizes by opcode (Core Vol 6 Part B 2.4.2); unlisted ones count 0.
CONTROL_DATA_BYTES: Final = {
    0x00: 11,  # LL_CONNECTION_UPDATE_IND
    0x01: 7,  # LL_CHANNEL_MAP_IND
    0x02: 1,  # LL_TERMINATE_IND
    0x03: 22,  # LL_ENC_REQ
    0x04: 12,  # LL_ENC_RSP
    0x08: 8,  # LL_FEATURE_REQ
    0x09: 8,  # LL_FEATURE_RSP
    0x0C: 5,  # LL_VERSION_IND
    0x0D: 1,  # LL_REJECT_IND
    0x14: 8,  # LL_LENGTH_REQ
    0x15: 8,  # LL_LENGTH_RSP
}


def data_pdu_air_bytes(l2cap_length: int, *, encrypted: bool) -> tuple[int, int]:
    """(LL PDUs, bytes on air) of one L2CAP PDU of ``l2cap_length`` bytes (header included)."""
    pdus = max(1, -(-l2cap_length // LL_DATA_MAX))
    return pdus, l2cap_length + pdus * (LL_FRAME_OVERHEAD + (MIC_BYTES if encrypted else 0))


@dataclass
class ConnectionAir:
    """One connection as the link saw it.

    Attributes:
        central: the central's address; ``peripheral`` likewise.
        opened: loop time of the CONNECT_IND.
        closed: loop time of the disconnection (None while up).
        interval_s: the connection interval (the link's event grid if it has one).
        encrypted: whether encryption was started (PDUs after it carry a MIC).
        tx_bytes: bytes on air sent by each side (data and control PDUs), by address.
        tx_pdus: LL PDUs sent by each side, by address.
    """

    central: str
    peripheral: str
    opened: float
    interval_s: float
    closed: float | None = None
    encrypted: bool = False
    tx_bytes: Counter[str] = field(default_factory=Counter)
    tx_pdus: Counter[str] = field(default_factory=Counter)

    @property
    def events(self) -> int:
        """Connection events: the duration over the interval, at least one."""
        end = self.closed if self.closed is not None else asyncio.get_running_loop().time()
        return max(1, round((end - self.opened) / self.interval_s))

    def radio_on_us(self) -> float:
        """Radio-on time of this connection (each side's radio is on for all of it)."""
        pdus = sum(self.tx_pdus.values())
        on_air = sum(self.tx_bytes.values()) * US_PER_BYTE
        return self.events * EVENT_OVERHEAD_US + on_air + pdus * T_IFS_US


@dataclass
class ScanAir:
    """A scanner's (or initiator's) listening, and the scan requests its active scans sent."""

    active_s: float = 0.0
    passive_s: float = 0.0
    initiating_s: float = 0.0
    scan_requests: int = 0
    since: float | None = None
    active: bool = False
    initiating_since: float | None = None


@dataclass
class AirLog:
    """Everything the link saw, per device address (see the module docstring)."""

    connections: list[ConnectionAir] = field(default_factory=list)
    scanners: dict[str, ScanAir] = field(default_factory=dict)
    #: SCAN_REQs received by each advertiser, and the bytes its SCAN_RSPs put on air.
    scan_requests_received: Counter[str] = field(default_factory=Counter)
    scan_response_bytes: Counter[str] = field(default_factory=Counter)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def reset(self) -> None:
        """Forget everything seen so far (scans and connections in progress restart now)."""
        now = self._now()
        self.connections = [c for c in self.connections if c.closed is None]
        for connection in self.connections:
            connection.opened = now
            connection.tx_bytes.clear()
            connection.tx_pdus.clear()
        for scanner in self.scanners.values():
            scanner.active_s = scanner.passive_s = scanner.initiating_s = 0.0
            scanner.scan_requests = 0
            scanner.since = now if scanner.since is not None else None
            scanner.initiating_since = now if scanner.initiating_since is not None else None
        self.scan_requests_received.clear()
        self.scan_response_bytes.clear()

    # -- scanning -------------------------------------------------------------------------

    def scanner(self, address: str) -> ScanAir:
        """The scanning record of ``address``."""
        return self.scanners.setdefault(address, ScanAir())

    def scan_enabled(self, address: str, enabled: bool, *, active: bool) -> None:
        """A controller enabled or disabled its scan."""
        scan, now = self.scanner(address), self._now()
        if scan.since is not None:
            if scan.active:
                scan.active_s += now - scan.since
            else:
                scan.passive_s += now - scan.since
        scan.since = now if enabled else None
        scan.active = active

    def initiating(self, address: str, started: bool) -> None:
        """A controller started or ended (connected, cancelled) a connection initiation."""
        scan, now = self.scanner(address), self._now()
        if scan.initiating_since is not None:
            scan.initiating_s += now - scan.initiating_since
        scan.initiating_since = now if started else None

    def scan_request(self, scanner: str, advertiser: str, response_length: int) -> None:
        """An active scanner sent a SCAN_REQ, answered by a SCAN_RSP of that many data bytes."""
        self.scanner(scanner).scan_requests += 1
        self.scan_requests_received[advertiser] += 1
        self.scan_response_bytes[advertiser] += LL_FRAME_OVERHEAD + 6 + response_length

    # -- connections ----------------------------------------------------------------------

    def connected(self, central: str, peripheral: str, interval_s: float) -> None:
        """A CONNECT_IND from ``central`` to ``peripheral``."""
        connection = ConnectionAir(central, peripheral, self._now(), interval_s)
        connection.tx_bytes[central] += LL_FRAME_OVERHEAD + CONNECT_IND_PAYLOAD
        self.connections.append(connection)

    def _open(self, a: str, b: str) -> ConnectionAir | None:
        for connection in reversed(self.connections):
            if connection.closed is None and {connection.central, connection.peripheral} == {
                a,
                b,
            }:
                return connection
        return None

    def disconnected(self, a: str, b: str) -> None:
        """The connection between ``a`` and ``b`` ended (either side may report it)."""
        connection = self._open(a, b)
        if connection is not None:
            connection.closed = self._now()

    def encrypted(self, a: str, b: str) -> None:
        """Encryption started on the connection between ``a`` and ``b``."""
        connection = self._open(a, b)
        if connection is not None:
            connection.encrypted = True

    def data(self, sender: str, receiver: str, l2cap_length: int) -> None:
        """An L2CAP PDU of ``l2cap_length`` bytes (with its 4-byte header) went on air."""
        connection = self._open(sender, receiver)
        if connection is None:
            return
        pdus, size = data_pdu_air_bytes(l2cap_length, encrypted=connection.encrypted)
        connection.tx_pdus[sender] += pdus
        connection.tx_bytes[sender] += size

    def control(self, sender: str, receiver: str, opcode: int) -> None:
        """An LL control PDU went on air."""
        connection = self._open(sender, receiver)
        if connection is None:
            return
        mic = MIC_BYTES if connection.encrypted else 0
        connection.tx_pdus[sender] += 1
        connection.tx_bytes[sender] += (
            LL_FRAME_OVERHEAD + 1 + CONTROL_DATA_BYTES.get(opcode, 0) + mic
        )

    # -- results --------------------------------------------------------------------------

    def connections_of(self, address: str) -> list[ConnectionAir]:
        """The connections ``address`` took part in."""
        return [c for c in self.connections if address in (c.central, c.peripheral)]


def advertising_event_us(advertising_data_length: int) -> float:
    """Radio-on time of one legacy advertising event (three channels, no request)."""
    adv_ind = (LL_FRAME_OVERHEAD + 6 + advertising_data_length) * US_PER_BYTE
    return ADV_CHANNELS * (adv_ind + ADV_LISTEN_US)


def scan_request_us(response_length: int) -> float:
    """Air time of one SCAN_REQ and its SCAN_RSP, with the inter-frame space between."""
    request = (LL_FRAME_OVERHEAD + SCAN_REQ_PAYLOAD) * US_PER_BYTE
    response = (LL_FRAME_OVERHEAD + 6 + response_length) * US_PER_BYTE
    return request + T_IFS_US + response
