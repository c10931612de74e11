"""A small DNS server that plays back recorded answers from zone files (for ``hsvc demo``).

It answers the way an authoritative server (and CoreDNS for its own zones) does:
the records at the name asked, AA set; NXDOMAIN for a name that does not exist
and NODATA (NOERROR, empty answer) for one that does, both with the zone's SOA in
the authority section (RFC 2308); REFUSED outside its zones. CNAMEs are followed
inside the zones; wildcards, delegations and zone transfers are not served.

It listens on UDP and TCP of the same port on 127.0.0.1, each in its own thread
(``socketserver``), and never talks to anything else. The zone files are data
recorded from a cluster, never written by hsvc's model.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import struct
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Self, cast

import dns.exception  # noqa: TID251
import dns.flags  # noqa: TID251
import dns.message  # noqa: TID251
import dns.name  # noqa: TID251
import dns.opcode  # noqa: TID251
import dns.rcode  # noqa: TID251
import dns.rdataclass  # noqa: TID251
import dns.rdataset  # noqa: TID251
import dns.rdatatype  # noqa: TID251
import dns.rrset  # noqa: TID251
import dns.zone  # noqa: TID251

from hsvc.errors import HsvcError, NoDnsError

__all__ = ["PlaybackServer", "ZoneError", "load_zone"]

log = logging.getLogger(__name__)

_UDP_DEFAULT = 512  # RFC 1035: without EDNS, a UDP answer holds at most 512 bytes
_TCP_MAX = 65535
_MAX_CNAMES = 8
_BIND_ATTEMPTS = 20  # port 0 picks a free UDP port; TCP may hold that port already


class ZoneError(HsvcError):
    """A zone file that cannot be served."""

    fmt = "zone file {name}: {reason}"


def load_zone(text: str, *, name: str) -> dns.zone.Zone:
    """Parse one zone file (with its own ``$ORIGIN``, an SOA and an NS at the apex).

    Raises:
        ZoneError: The text is not a valid zone file.
    """
    try:
        return dns.zone.from_text(text, relativize=False, filename=name)
    except (dns.exception.DNSException, ValueError) as exc:
        raise ZoneError(name=name, reason=str(exc)) from exc


class _Zones:
    """The zones served, and the answer to any query against them."""

    def __init__(self, zones: Iterable[dns.zone.Zone]) -> None:
        self.zones = sorted(zones, key=lambda z: len(z.origin or dns.name.root), reverse=True)
        # Names that own no records but have names below them exist all the same (NODATA).
        self.empty_nonterminals: set[dns.name.Name] = set()
        for zone in self.zones:
            origin = _origin(zone)
            for owner in zone.nodes:
                name = owner
                while name != origin and name.is_subdomain(origin):
                    name = name.parent()
                    self.empty_nonterminals.add(name)

    def zone_for(self, qname: dns.name.Name) -> dns.zone.Zone | None:
        """Return the deepest zone that holds ``qname``."""
        return next((z for z in self.zones if qname.is_subdomain(_origin(z))), None)

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        """Return the response to ``query``."""
        response = dns.message.make_response(query)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        zone = self.zone_for(question.name)
        if (
            zone is None
            or question.rdclass != dns.rdataclass.IN
            or question.rdtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR)
        ):
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        qname = question.name
        for _ in range(_MAX_CNAMES + 1):
            node = zone.get_node(qname)
            if node is None:
                if qname not in self.empty_nonterminals:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                _add_soa(response, zone)
                return response
            if question.rdtype == dns.rdatatype.ANY:
                for rdataset in node.rdatasets:
                    response.answer.append(_rrset(qname, rdataset))
                return response
            rdataset = node.get_rdataset(dns.rdataclass.IN, question.rdtype)
            if rdataset is not None:
                response.answer.append(_rrset(qname, rdataset))
                return response
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                _add_soa(response, zone)  # NODATA: the name exists, the type does not
                return response
            response.answer.append(_rrset(qname, cname))
            qname = next(iter(cname)).target
            target_zone = self.zone_for(qname)
            if target_zone is None:
                return response  # the target is someone else's: the client asks on
            zone = target_zone
        return response  # a CNAME loop: what was found so far, as servers do

    def reply(self, wire: bytes, *, tcp: bool) -> bytes | None:
        """Return the wire response to a wire query, or None when there is nothing to answer."""
        try:
            query = dns.message.from_wire(wire)
        except dns.message.ShortHeader:
            return None
        except (dns.exception.DNSException, ValueError):
            return _formerr(wire)
        if query.flags & dns.flags.QR:
            return None  # a response: never answer one (no loops)
        response = self.answer(query)
        if tcp:
            max_size = _TCP_MAX
        elif query.edns >= 0:
            max_size = max(_UDP_DEFAULT, query.payload)
        else:
            max_size = _UDP_DEFAULT
        # Too big for the client's buffer: send what fits with TC set, so it retries over TCP.
        return response.to_wire(max_size=max_size, prefer_truncation=True)


def _origin(zone: dns.zone.Zone) -> dns.name.Name:
    return zone.origin or dns.name.root


def _rrset(owner: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(owner, rdataset.ttl, list(rdataset))


def _add_soa(response: dns.message.Message, zone: dns.zone.Zone) -> None:
    origin = _origin(zone)
    soa = zone.get_rdataset(origin, dns.rdatatype.SOA)
    if soa is None:  # pragma: no cover - dnspython refuses zones without an SOA
        return
    rrset = _rrset(origin, soa)
    # RFC 2308 section 3: a negative answer lives min(SOA TTL, SOA MINIMUM) seconds.
    rrset.ttl = min(soa.ttl, next(iter(soa)).minimum)
    response.authority.append(rrset)


def _formerr(wire: bytes) -> bytes | None:
    """Return a FORMERR response echoing the ID and opcode of an unreadable query."""
    if len(wire) < 12:
        return None
    query_id, flags = struct.unpack("!HH", wire[:4])
    if flags & dns.flags.QR:
        return None
    opcode_bits = flags & 0x7800
    return struct.pack("!HHHHHH", query_id, 0x8000 | opcode_bits | dns.rcode.FORMERR, 0, 0, 0, 0)


# --- sockets ---------------------------------------------------------------------------


class _UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], zones: _Zones) -> None:
        self.zones = zones
        super().__init__(address, _UdpHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("demo DNS (udp): error answering %s", client_address, exc_info=True)


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], zones: _Zones) -> None:
        self.zones = zones
        super().__init__(address, _TcpHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("demo DNS (tcp): error answering %s", client_address, exc_info=True)


class _UdpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = cast(tuple[bytes, socket.socket], self.request)
        zones = cast(_UdpServer, self.server).zones
        reply = zones.reply(data, tcp=False)
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TcpHandler(socketserver.StreamRequestHandler):
    timeout = 10  # seconds an idle connection is kept

    def handle(self) -> None:
        zones = cast(_TcpServer, self.server).zones
        try:
            while True:  # RFC 7766: several queries may share one connection
                prefix = self.rfile.read(2)
                if len(prefix) < 2:
                    return
                (length,) = struct.unpack("!H", prefix)
                wire = self.rfile.read(length)
                if len(wire) < length:
                    return
                reply = zones.reply(wire, tcp=True)
                if reply is None:
                    return
                self.wfile.write(struct.pack("!H", len(reply)) + reply)
                self.wfile.flush()
        except OSError:  # the client went away or stayed idle too long
            return


class PlaybackServer:
    """Serve zone files on UDP and TCP of one port on 127.0.0.1.

    Use as a context manager; ``port`` is known once started::

        with PlaybackServer([zone_text]) as server:
            ask(f"127.0.0.1:{server.port}")
    """

    def __init__(self, zone_texts: Iterable[tuple[str, str]], *, port: int = 0) -> None:
        """Load the zones.

        Args:
            zone_texts: ``(file name, zone text)`` pairs; the name is for messages.
            port: The port to listen on; 0 picks a free one.

        Raises:
            ZoneError: A zone file cannot be read.
        """
        self.host = "127.0.0.1"
        self.requested_port = port
        self.port = port
        self._zones = _Zones(load_zone(text, name=name) for name, text in zone_texts)
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as ``--nameserver`` takes it."""
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        """Bind both sockets and start answering.

        Raises:
            NoDnsError: No port could be bound on 127.0.0.1.
        """
        attempts = 1 if self.requested_port else _BIND_ATTEMPTS
        error: OSError | None = None
        for _ in range(attempts):
            try:
                udp = _UdpServer((self.host, self.requested_port), self._zones)
            except OSError as exc:
                error = exc
                continue
            port = udp.server_address[1]
            try:
                tcp = _TcpServer((self.host, port), self._zones)
            except OSError as exc:  # TCP port taken: try another UDP port
                udp.server_close()
                error = exc
                continue
            self.port = port
            self._servers = [udp, tcp]
            break
        else:
            reason = error.strerror if error is not None and error.strerror else str(error)
            raise NoDnsError(
                f"cannot start the demo DNS server on {self.host}: {reason}"
            ) from error
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"hsvc-demo-dns-{type(server).__name__}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        log.debug("demo DNS server listening on %s (udp+tcp)", self.address)

    def stop(self) -> None:
        """Stop answering and close the sockets."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._servers = []
        self._threads = []
