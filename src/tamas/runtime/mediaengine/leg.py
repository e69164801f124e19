"""One RTP leg of the built-in engine: its sockets, the relay hot path, latching, RTCP, DTMF.

Theory of operation
-------------------
A leg owns an RTP socket on an even port and an RTCP socket on the next one (RFC 3550
section 11). The RTP socket is read by the leg itself, not through an asyncio transport: the
loop calls :meth:`UdpLeg.readable` when the socket has a datagram (``loop.add_reader``), the
leg reads it and, when the leg is bridged, sends it straight on from the peer leg's socket: no
await, no logging, no object built per packet in the common case (same codec on both legs: the
received ``bytes`` object is sent on unchanged). Everything that varies rarely (peer, target
address, codec conversion, tap) is folded into a few attributes by
:meth:`UdpLeg.refresh_route` whenever it changes, and the hot path only reads them.

**Connected sockets.** Once a leg has latched (below), its RTP socket is ``connect``-ed to
the latched address: the kernel then delivers only that party's datagrams to it, and the leg
reads them with ``recv`` and its peer sends to it with ``send``, with no address to format on
the way in or to parse on the way out. That halves what the relay itself executes per packet
(with callgrind, 9,744 instructions per packet for a ``recvfrom``/``sendto`` relay against
5,718 for ``recv``/``send``; benchmarks/media_instructions.py). While connected, packets from
any other source are dropped by the kernel, unseen by the leg; so that a phone whose NAT
binding moved can still re-latch (below), the engine's housekeeping disconnects a leg that has
heard nothing for a second (:meth:`UdpLeg.hear_anyone`), and the next packet is read with
``recvfrom`` and judged by the latching rules. A leg whose socket is bound to the wildcard
address is never connected (connecting would pin its local address to the route's, and a
multi-homed host may receive on another): it keeps ``recvfrom``/``sendto``.

Where to send (symmetric RTP, RFC 4961; "latching"):

* A leg sends RTP only to its *target*. Before any packet arrives, the target is the SDP
  address only if that address equals the IP the SIP peer's signalling came from
  (:attr:`RemoteMedia.signalling_address`); otherwise there is no target and the leg is silent.
  This is the safety rule: an address taken from SDP alone never receives Tamas's media.
* The first RTP packet received latches the leg to its source: that address becomes the target
  (answers go where the packets came from, which is what crosses NAT). Later packets from other
  addresses are dropped, unless their IP is the signalling IP (a phone whose NAT binding moved):
  then the leg re-latches. A new ``configure`` (re-INVITE) keeps the latch. While the socket is
  connected (above), a moved phone's packets are dropped by the kernel until the leg has been
  silent for a second and listens to any source again: a moved binding costs up to about two
  seconds of that party's audio, once.

Per packet, audio of the negotiated payload type updates the RFC 3550 receiver statistics
(``tamas.media.stats``), is forwarded to the peer (header and payload untouched, or with the
payload type rewritten and the payload transcoded PCMU<->PCMA by a 256-byte table, or
G.722<->G.711 by a stateful :class:`~tamas.media.g722.Transcoder`, when the two legs differ)
and is handed to the bridge's tap if any (a G.722 leg's tap is a
:class:`~tamas.runtime.mediaengine.widetap.NarrowTap`, which hands on 8 kHz PCMU).
Telephone events (RFC 4733) go to an ``EventReceiver`` (digits are reported when they end) and
are forwarded with the peer's telephone-event payload type. Anything else is counted and dropped.

In-band DTMF (a trunk that sends key presses as tones) is opt-in per leg
(:attr:`RemoteMedia.inband_dtmf`): the leg then decodes each audio packet it receives and feeds
a :class:`~tamas.media.goertzel.DtmfDetector`. The detector's clock is the packets' RTP
timestamp, anchored to the loop time of the first packet of the SSRC (and again whenever it
strays from the loop time by over a second: a sender's timestamp jump), so a tone's measured
duration is that of the audio, not of the packets' arrival; a key heard
(two 20 ms blocks of Q.23 tones, ended by two blocks without it, or by the engine's
housekeeping when no packet came for a second: :meth:`UdpLeg.inband_silence`) is emitted as the
same :class:`DigitReceived` as a telephone-event. The audio is still relayed unchanged (the far
party hears the tones). Off, the hot path pays one attribute test per packet.

Digits sent to the party (:meth:`UdpLeg.send_digit`, RFC 4733) go out on the leg's own stream
from a :class:`~tamas.runtime.mediaengine.dtmfsend.DigitSender`; meanwhile the leg's source
and the peer's relayed audio are held back.

RTCP is terminated per leg, not relayed: reports received are parsed for the far end's view
(fraction lost, jitter) and the SR time that our next report echoes; every few seconds the
engine asks each leg for a compound RR (or SR while the leg sends its own source) + SDES.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import random
import socket
import struct
from collections.abc import Callable
from typing import Any, cast

from tamas.media.g711 import (
    alaw_decode,
    alaw_encode,
    alaw_to_ulaw,
    ulaw_decode,
    ulaw_encode,
    ulaw_to_alaw,
)
from tamas.media.g722 import NarrowDecoder, Transcoder, WideEncoder
from tamas.media.goertzel import DigitEvent, DtmfDetector
from tamas.media.rtcp import (
    ReceiverReport,
    RtcpError,
    RtcpPacket,
    SenderReport,
    SourceDescription,
    ntp_from_unix,
    parse_rtcp,
    serialize_rtcp,
)
from tamas.media.stats import ReceiverStats
from tamas.media.telephone_event import DigitEnded, EventReceiver, TelephoneEventError
from tamas.runtime.mediaengine.api import (
    FRAME_SAMPLES,
    Codec,
    CodecName,
    DigitReceived,
    EventSink,
    FrameSource,
    LegStats,
    MediaError,
    RemoteMedia,
    SourceFinished,
    Tap,
)
from tamas.runtime.mediaengine.dtmfsend import DigitSender
from tamas.runtime.mediaengine.widetap import narrow_tap

__all__ = ["UdpLeg"]

_SEQ_TS_SSRC = struct.Struct("!HII")
_TS_SSRC = struct.Struct("!II")
_HEADER = struct.Struct("!BBHII")

# A-law <-> mu-law payload conversion tables, indexed (from, to).
_TRANSLATE: dict[tuple[CodecName, CodecName], bytes] = {
    (CodecName.PCMU, CodecName.PCMA): ulaw_to_alaw(bytes(range(256))),
    (CodecName.PCMA, CodecName.PCMU): alaw_to_ulaw(bytes(range(256))),
}

Address = tuple[Any, ...]  # (host, port) or (host, port, flowinfo, scope_id)
_rng = random.Random()  # SSRCs and initial sequence numbers: unique, not secret
#: The largest RTP datagram read whole (G.711 and G.722 at 20-60 ms are 172-492 bytes).
RECV_BYTES = 2048
#: What a leg reads at first. A ``bytes`` of up to 512 bytes with its header comes from
#: CPython's small-object allocator: cheaper than the C library's ``malloc`` a buffer of
#: RECV_BYTES needs, and, while a recording keeps a second of packets alive, without the
#: C allocator's locks and scattered memory (measured with perf: the relay's ``malloc``,
#: ``free`` and their locks were ~4 % of its core at 650 recorded calls). A datagram longer
#: than this is seen by MSG_TRUNC (the kernel reports its whole length): it is dropped and the
#: leg reads RECV_BYTES from then on.
SMALL_RECV_BYTES = 479
_MSG_TRUNC = socket.MSG_TRUNC
_libc = ctypes.CDLL(None, use_errno=True)
_UNSPEC = bytes(16)  # a sockaddr of family AF_UNSPEC (0): connect() to it disconnects


def disconnect(sock: socket.socket) -> None:
    """Undo ``sock.connect`` (a UDP socket then receives from anyone again). Python's
    ``connect`` takes only addresses of the socket's family; Linux dissolves the association
    when given one of family AF_UNSPEC (connect(2))."""
    if _libc.connect(sock.fileno(), _UNSPEC, len(_UNSPEC)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def stop_reading(loop: Any, fd: int) -> None:
    """``loop.remove_reader(fd)``. The loop is typed Any here: typeshed says the call returns
    a bool, uvloop's returns None at times, and the compiled build checks declared types."""
    loop.remove_reader(fd)


def drain(sock: socket.socket) -> Callable[[], None]:
    """A reader for a socket nobody listens to (a closed leg's, parked): reads and drops."""
    recv = sock.recv

    def readable() -> None:
        with contextlib.suppress(OSError):
            recv(RECV_BYTES)

    return readable


class DatagramMethods:
    """What the loop calls on a datagram protocol, each doing nothing: the base of the engine's
    protocols, which override what they use. They are datagram protocols by these methods, not
    by deriving from ``asyncio.DatagramProtocol``: the compiled build makes them native
    classes, which cannot; :meth:`as_protocol` gives one the type the loop's signatures ask for.
    """

    def as_protocol(self) -> asyncio.DatagramProtocol:
        return cast(asyncio.DatagramProtocol, self)

    def connection_made(self, transport: Any) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        pass

    def pause_writing(self) -> None:
        pass  # a full socket buffer: packets are dropped by the kernel as usual for RTP

    def resume_writing(self) -> None:
        pass

    def datagram_received(self, data: bytes, addr: Address) -> None:
        pass

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP unreachable from a peer that has gone: nothing to do


class _RtcpProtocol(DatagramMethods):
    """The protocol of a leg's RTCP socket."""

    def __init__(self, leg: UdpLeg) -> None:
        self.leg = leg

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.leg.rtcp_received(data, addr)


class UdpLeg:
    """A leg of :class:`~tamas.runtime.mediaengine.engine.LocalMediaEngine` (see the module
    docstring). Built by the engine; the call logic uses the :class:`MediaLeg` surface. It
    reads its RTP socket itself (:meth:`attach`); its RTCP socket's datagram protocol is a
    :class:`_RtcpProtocol`."""

    def __init__(
        self,
        *,
        call_id: str,
        label: str,
        local_address: str,
        local_port: int,
        loop: asyncio.AbstractEventLoop,
        emit: EventSink,
        cname: str,
        on_source: Callable[[UdpLeg], None],
        on_close: Callable[[UdpLeg], LegStats],
    ) -> None:
        self._call_id = call_id
        self._label = label
        self._local_address = local_address
        self._local_port = local_port
        self._loop = loop
        self._now = loop.time
        self._emit = emit
        self._cname = cname
        self._on_source = on_source
        self._on_close = on_close
        # The RTP socket (see attach) and its methods the hot path calls.
        self.sock: socket.socket | None = None
        self._fd = -1
        self._recv: Any = None  # sock.recv
        self._recvfrom: Any = None  # sock.recvfrom
        self._recv_bytes = SMALL_RECV_BYTES  # RECV_BYTES after a longer datagram
        self.can_connect = False  # bound to a specific address: may be connected (docstring)
        self.connected = False  # connected to _latched: the kernel filters other sources
        self.rtcp_transport: asyncio.DatagramTransport | None = None
        self.closed = False
        self.remote: RemoteMedia | None = None
        self.codec: Codec | None = None
        # Hot-path state (see refresh_route).
        self._pt = -1
        self._te_pt = -1
        self._latched: Address | None = None
        self.target: Address | None = None
        self._rtcp_target: Address | None = None
        self.peer: UdpLeg | None = None
        self.side = 0
        self._tap: Tap | None = None
        self._tap_feed: Any = None  # the tap's bound ``feed``, or None (see the tap property)
        self._fwd_send: Any = None  # the peer transport's sendto, or None: do not forward
        self._fwd_addr: Address | None = None
        self._fwd_leg: UdpLeg | None = None
        self._fwd_plain = True
        self._fwd_pt = 0
        self._fwd_table: bytes | None = None
        self._fwd_te_pt = -1
        self._fwd_xcode: Transcoder | None = None  # G.722 <-> G.711, one per direction
        # Counters and statistics.
        self.rx = 0
        self.tx = 0
        self.dropped = 0
        self._stats: ReceiverStats | None = None
        self._remote_fraction_lost: float | None = None
        self._remote_jitter_ms: float | None = None
        # Media timeout bookkeeping (engine housekeeping reads these).
        self.rx_at_check = 0
        self.last_heard = 0.0
        self.timed_out = False
        # DTMF.
        self._dtmf = EventReceiver()
        self._dtmf_timer: asyncio.TimerHandle | None = None
        self._dtmf_started: dict[int, float] = {}  # event timestamp -> loop time it began
        self._inband: DtmfDetector | None = None  # in-band tone detection, when enabled
        self._inband_clock = (-1, 0, 0.0)  # (SSRC, RTP timestamp, loop time) of its anchor
        self._inband_wide: NarrowDecoder | None = None  # G.722 to 8 kHz for the detector
        self._digits: DigitSender | None = None  # RFC 4733 sending, made at the first digit
        self._wide_out: WideEncoder | None = None  # a source's frames as G.722
        # Own stream (sources, RTCP SSRC).
        self.ssrc = _rng.getrandbits(32)
        self._seq = _rng.getrandbits(16)
        self._ts = _rng.getrandbits(32)
        self.source: FrameSource | None = None
        self._source_marker = False
        self._own_sent = 0
        self._own_octets = 0

    @property
    def tap(self) -> Tap | None:
        """Where the bridge's audio is also handed, packet by packet (recording, monitoring)."""
        return self._tap

    @tap.setter
    def tap(self, tap: Tap | None) -> None:
        self._tap = tap
        # The bound method, looked up once: per packet, the hot path only calls it.
        self._tap_feed = None if tap is None else tap.feed

    # --- MediaLeg surface ---------------------------------------------------------------

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def label(self) -> str:
        return self._label

    @property
    def local_address(self) -> str:
        return self._local_address

    @property
    def local_port(self) -> int:
        return self._local_port

    def configure(self, remote: RemoteMedia) -> None:
        if self.closed:
            raise MediaError(f"leg {self._label} of call {self._call_id} is closed")
        if remote.codec.name not in (CodecName.PCMU, CodecName.PCMA, CodecName.G722):
            raise MediaError(f"codec {remote.codec.name} is not supported")
        first = self.remote is None
        self.remote = remote
        self.codec = remote.codec
        self._pt = remote.codec.payload_type
        self._te_pt = -1 if remote.telephone_event_pt is None else remote.telephone_event_pt
        if self.tap is not None:  # a G.722 leg's tap gets 8 kHz G.711 (widetap)
            peer_codec = None if self.peer is None else self.peer.codec
            self.tap = narrow_tap(self.tap, self.codec, peer_codec)
            if self.peer is not None:
                self.peer.tap = self.tap
        if not remote.inband_dtmf:
            self._inband = None
        elif self._inband is None:
            self._inband = DtmfDetector()
        if self._latched is None:
            # The safety rule: the SDP address is used only if it is the signalling peer's.
            if remote.address == remote.signalling_address and remote.port > 0:
                self.target = (remote.address, remote.port)
                self._rtcp_target = (remote.address, remote.port + 1)
            else:
                self.target = None
                self._rtcp_target = None
        if first:
            self.last_heard = self._now()
            self.rx_at_check = self.rx
        self.refresh_route()
        if self.peer is not None:
            self.peer.refresh_route()

    def set_source(self, source: FrameSource | None) -> None:
        if source is not None and self.closed:
            raise MediaError(f"leg {self._label} of call {self._call_id} is closed")
        if source is not None and self.source is None:
            self._source_marker = True
        self.source = source
        if source is not None:
            self._on_source(self)
        if self.peer is not None:
            self.peer.refresh_route()  # the peer's audio stops (or resumes) coming here

    def send_digit(self, digit: str, duration_ms: int) -> bool:
        """Queue ``digit`` as RFC 4733 events to the party (module dtmfsend); False if the
        party negotiated no telephone-event."""
        if self.closed:
            raise MediaError(f"leg {self._label} of call {self._call_id} is closed")
        if self._te_pt < 0:
            return False
        if self._digits is None:
            self._digits = DigitSender(self, self._loop)
            self._digits.on_change = self._digits_changed
        try:
            self._digits.send(digit, duration_ms)
        except TelephoneEventError as e:
            raise MediaError(str(e)) from None
        return True

    def _digits_changed(self) -> None:
        if self.peer is not None:
            self.peer.refresh_route()  # the peer's audio pauses (or resumes) towards us

    @property
    def sending_digit(self) -> bool:
        return self._digits is not None and self._digits.active

    @property
    def own_timestamp(self) -> int:
        """The RTP timestamp of the leg's own stream's next packet."""
        return self._ts

    @own_timestamp.setter
    def own_timestamp(self, value: int) -> None:
        self._ts = value & 0xFFFFFFFF

    def send_event_packet(self, marker: bool, timestamp: int, payload: bytes) -> None:
        """One telephone-event packet on the own stream (next sequence number, ``timestamp``)."""
        target = self.target
        if self._te_pt >= 0 and target is not None and self.sock is not None:
            second = (0x80 if marker else 0) | self._te_pt
            header = _HEADER.pack(0x80, second, self._seq, timestamp, self.ssrc)
            self._send_own(header + payload, target)
            self.tx += 1
            self._own_sent += 1
            self._own_octets += len(payload)
        self._seq = (self._seq + 1) & 0xFFFF

    def stats(self) -> LegStats:
        st = self._stats
        return LegStats(
            call_id=self._call_id,
            label=self._label,
            packets_received=self.rx,
            packets_sent=self.tx,
            packets_lost=0 if st is None else max(st.lost, 0),
            jitter_ms=0.0 if st is None else round(st.jitter_ms, 3),
            remote_fraction_lost=self._remote_fraction_lost,
            remote_jitter_ms=self._remote_jitter_ms,
            dropped=self.dropped,
            latched_to=None if self._latched is None else (self._latched[0], self._latched[1]),
        )

    def close(self) -> LegStats:
        return self._on_close(self)

    def shutdown(self) -> LegStats:
        """Close the sockets (the engine emits LegClosed and releases the ports)."""
        self.closed = True
        self.source = None
        if self._digits is not None:
            self._digits.stop()
        if self._dtmf_timer is not None:
            self._dtmf_timer.cancel()
            self._dtmf_timer = None
        sock = self.detach()
        if sock is not None:
            sock.close()
        if self.rtcp_transport is not None:
            self.rtcp_transport.close()
        self._fwd_send = None
        self.tap = None
        return self.stats()

    # --- routing ------------------------------------------------------------------------

    def refresh_route(self) -> None:
        """Recompute where this leg's received audio goes; call after any change of peer,
        target, codec, source or closing, on both legs of a bridge."""
        peer = self.peer
        if (
            peer is None
            or self.closed
            or peer.closed
            or peer.target is None
            or peer.source is not None
            or peer.sending_digit
            or peer.sock is None
            or peer.codec is None
            or self.codec is None
        ):
            self._fwd_send = None
            self._fwd_addr = None
            self._fwd_leg = None
            return
        # To a connected peer, ``send`` (no address to parse); else ``sendto`` its target.
        self._fwd_send = peer.sock.send if peer.connected else peer.sock.sendto
        self._fwd_addr = None if peer.connected else peer.target
        self._fwd_leg = peer
        self._fwd_pt = peer.codec.payload_type
        self._fwd_table = _TRANSLATE.get((self.codec.name, peer.codec.name))
        pair = (self.codec.name.value, peer.codec.name.value)
        if CodecName.G722 not in (self.codec.name, peer.codec.name) or pair[0] == pair[1]:
            self._fwd_xcode = None
        elif self._fwd_xcode is None or (self._fwd_xcode.source, self._fwd_xcode.target) != pair:
            self._fwd_xcode = Transcoder(*pair)  # kept while the pair holds: it has state
        self._fwd_plain = (
            self._fwd_table is None and self._fwd_xcode is None and self._fwd_pt == self._pt
        )
        self._fwd_te_pt = peer._te_pt

    # --- the hot path -------------------------------------------------------------------

    def attach(self, sock: socket.socket, *, can_connect: bool) -> None:
        """Read ``sock`` (non-blocking, bound, not connected) as this leg's RTP socket from
        now on; ``can_connect``: it is bound to a specific address (module docstring)."""
        self.sock = sock
        self._fd = sock.fileno()
        self._recv = sock.recv
        self._recvfrom = sock.recvfrom
        self.can_connect = can_connect
        self.connected = False
        self._loop.add_reader(self._fd, self.readable)

    def detach(self) -> socket.socket | None:
        """Stop reading the RTP socket and give it back, not connected (to be parked or
        closed); None if the leg has none."""
        sock = self.sock
        if sock is None:
            return None
        stop_reading(self._loop, self._fd)
        if self.connected:
            self._disconnect(sock)
        self.sock = None
        self._recv = self._recvfrom = None
        return sock

    def hear_anyone(self) -> None:
        """Listen to any source again (the engine's housekeeping, after a second of silence):
        disconnect the socket, so that a packet from a new address reaches the latching rules;
        the next packet from the latched address connects it again."""
        sock = self.sock
        if not self.connected or sock is None:
            return
        self._disconnect(sock)
        if self.peer is not None:
            self.peer.refresh_route()  # the peer sends here with sendto meanwhile

    def _disconnect(self, sock: socket.socket) -> None:
        self.connected = False
        with contextlib.suppress(OSError):
            disconnect(sock)

    def _connect(self, addr: Address) -> None:
        """Connect the RTP socket to ``addr`` (readable, on a latched packet, when the leg
        ``can_connect``)."""
        sock = self.sock
        if sock is None:
            return
        try:
            sock.connect(addr)
        except OSError:
            return
        self.connected = True
        if self.peer is not None:
            self.peer.refresh_route()  # the peer now sends here with send

    def readable(self) -> None:
        """The loop's reader callback: one datagram is waiting on the RTP socket."""
        size = self._recv_bytes
        if self.connected:
            try:
                data = self._recv(size, _MSG_TRUNC)
            except OSError:
                return  # nothing after all, or an ICMP error from the party's host
        else:
            try:
                data, addr = self._recvfrom(size, _MSG_TRUNC)
            except OSError:
                return
            if addr != self._latched and not self._latch(addr):
                return
            if self.can_connect:
                self._connect(addr)
        if len(data) > size:  # cut short (MSG_TRUNC: the length is the datagram's)
            self._truncated()
            return
        self._packet(data)

    def _truncated(self) -> None:
        """A datagram longer than what was read: dropped; read longer ones from now on."""
        self.rx += 1
        self.dropped += 1
        self._recv_bytes = RECV_BYTES

    def datagram_received(self, data: bytes, addr: Address) -> None:
        """One datagram from ``addr`` (what :meth:`readable` does after ``recvfrom``)."""
        if addr != self._latched and not self._latch(addr):
            return
        self._packet(data)

    def _packet(self, data: bytes) -> None:
        """One datagram from the latched source: count, check, relay, tap."""
        self.rx += 1
        if len(data) < 12 or data[0] & 0xC0 != 0x80:
            self.dropped += 1
            return
        pt = data[1] & 0x7F
        if pt == self._pt:
            # Sequence number, timestamp, SSRC (big-endian at 2, 4, 8): indexed bytes, which
            # the compiled build reads in place (a struct read costs a method call and a tuple).
            ssrc = data[8] << 24 | data[9] << 16 | data[10] << 8 | data[11]
            st = self._stats
            if st is None or st.ssrc != ssrc:
                st = self._stats = ReceiverStats(ssrc, 8000)
            st.update(
                data[2] << 8 | data[3],
                data[4] << 24 | data[5] << 16 | data[6] << 8 | data[7],
                self._now(),
            )
            if self._fwd_send is not None:
                self._forward(data if self._fwd_plain else self._convert(data))
            feed = self._tap_feed
            if feed is not None:
                feed(self.side, data, self.codec)
            if self._inband is not None:
                self._inband_audio(data)
        elif pt == self._te_pt:
            self._telephone_event(data)
        else:
            self.dropped += 1

    def _forward(self, packet: bytes) -> None:
        """Send ``packet`` on to the peer (the route is set: ``_fwd_send`` is not None)."""
        addr = self._fwd_addr
        try:
            if addr is None:
                self._fwd_send(packet)  # the peer's socket is connected to its party
            else:
                self._fwd_send(packet, addr)
        except OSError:
            return  # a full send buffer or an ICMP error: dropped, as UDP drops
        peer = self._fwd_leg
        if peer is not None:
            peer.tx += 1

    def _latch(self, addr: Address) -> bool:
        if self.closed:
            return False
        remote = self.remote
        if self._latched is not None and (remote is None or addr[0] != remote.signalling_address):
            self.dropped += 1
            return False
        self._latched = addr
        self.target = addr
        if self._rtcp_target is None or self._rtcp_target[0] != addr[0]:
            self._rtcp_target = (addr[0], addr[1] + 1)
        if self.peer is not None:
            self.peer.refresh_route()
        return True

    def _convert(self, data: bytes) -> bytes:
        """The packet with the peer's payload type and, between PCMU and PCMA, transcoded."""
        buf = bytearray(data)
        buf[1] = (buf[1] & 0x80) | self._fwd_pt
        xcode = self._fwd_xcode
        if xcode is not None:  # G.722 <-> G.711: the same duration, one byte per 8 kHz sample
            start = _payload_offset(data)
            end = len(data) - (data[-1] if data[0] & 0x20 else 0)
            buf[0] &= 0xDF  # the padding is not copied
            return bytes(buf[:start]) + xcode.convert(data[start:end])
        table = self._fwd_table
        if table is not None:
            start = _payload_offset(data)
            end = len(data) - (data[-1] if data[0] & 0x20 else 0)
            if start < end:
                buf[start:end] = data[start:end].translate(table)
        return bytes(buf)

    # --- DTMF ---------------------------------------------------------------------------

    def _telephone_event(self, data: bytes) -> None:
        if self._fwd_send is not None and self._fwd_te_pt >= 0:
            out = data
            if self._fwd_te_pt != self._te_pt:
                buf = bytearray(data)
                buf[1] = (buf[1] & 0x80) | self._fwd_te_pt
                out = bytes(buf)
            self._forward(out)
        start = _payload_offset(data)
        seq, ts, _ssrc = _SEQ_TS_SSRC.unpack_from(data, 2)
        marker = bool(data[1] & 0x80)
        now = self._now()
        events = self._dtmf.receive(marker, seq, ts, data[start : start + 4], now)
        self._report_digits(events)
        self._arm_dtmf_timer()

    def _inband_audio(self, data: bytes) -> None:
        """Decode one received audio packet and feed it to the in-band detector."""
        detector = self._inband
        codec = self.codec
        if detector is None or codec is None:
            return
        start = _payload_offset(data)
        end = len(data) - (data[-1] if data[0] & 0x20 else 0)
        if start >= end:
            return
        payload = data[start:end]
        if codec.name is CodecName.G722:
            if self._inband_wide is None:
                self._inband_wide = NarrowDecoder()
            pcm = self._inband_wide.decode(payload)
        else:
            pcm = ulaw_decode(payload) if codec.name is CodecName.PCMU else alaw_decode(payload)
        now = self._now()
        ts, ssrc = _TS_SSRC.unpack_from(data, 4)
        clock_ssrc, clock_ts, clock_t = self._inband_clock
        t = clock_t + ((ts - clock_ts) & 0xFFFFFFFF) / codec.clock_rate
        if ssrc != clock_ssrc or abs(t - now) > 1.0:
            self._inband_clock = (ssrc, ts, now)
            t = now
        self._report_inband(detector.feed(pcm, t), now)

    def _report_inband(self, events: list[DigitEvent], now: float) -> None:
        for event in events:
            if event.end is None:
                continue  # an early report (the detector is not built with early=True)
            self._emit(
                DigitReceived(
                    call_id=self._call_id,
                    label=self._label,
                    digit=event.digit,
                    duration_ms=round((event.end - event.start) * 1000),
                    started_at=min(event.start, now),  # a sender may run ahead of the clock
                    at=now,
                    via="inband",
                )
            )

    def inband_silence(self) -> None:
        """No audio came for a while (the engine's housekeeping saw none for a second): a key
        the in-band detector still holds has ended; report it."""
        detector = self._inband
        if detector is not None:
            self._report_inband(detector.flush(), self._now())

    def _arm_dtmf_timer(self) -> None:
        deadline = self._dtmf.next_deadline()
        if self._dtmf_timer is not None:
            self._dtmf_timer.cancel()
            self._dtmf_timer = None
        if deadline is not None and not self.closed:
            self._dtmf_timer = self._loop.call_at(deadline, self._dtmf_timeout)

    def _dtmf_timeout(self) -> None:
        self._dtmf_timer = None
        self._report_digits(self._dtmf.handle_timer(self._now()))
        self._arm_dtmf_timer()

    def _report_digits(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, DigitEnded):
                self._emit(
                    DigitReceived(
                        call_id=self._call_id,
                        label=self._label,
                        digit=event.digit,
                        duration_ms=event.duration_ms,
                        started_at=self._dtmf_started.get(event.timestamp, event.at),
                        at=event.at,
                    )
                )
                self._dtmf_started.pop(event.timestamp, None)
            else:
                self._dtmf_started[event.timestamp] = event.at

    # --- own stream: sources ------------------------------------------------------------

    def send_source_frame(self) -> None:
        """Send the next frame of the leg's source (called by the engine every 20 ms)."""
        source = self.source
        codec = self.codec
        if source is None or codec is None or self.sending_digit:
            return  # a digit going out holds the prompt back (no overlap)
        frame = source.read_frame()
        if frame is None:
            self.source = None
            if self.peer is not None:
                self.peer.refresh_route()
            self._emit(SourceFinished(call_id=self._call_id, label=self._label, at=self._now()))
            return
        if codec.name is CodecName.G722:  # 8 kHz frames through a 16 kHz encoder
            if self._wide_out is None:
                self._wide_out = WideEncoder()
            payload = self._wide_out.encode(frame)
        else:
            payload = ulaw_encode(frame) if codec.name is CodecName.PCMU else alaw_encode(frame)
        self.send_own(payload, FRAME_SAMPLES)

    def send_own(self, payload: bytes, samples: int) -> None:
        """Send ``payload`` under the leg's own SSRC and advance sequence and timestamp."""
        codec = self.codec
        target = self.target
        if codec is not None and target is not None and self.sock is not None:
            second = (0x80 if self._source_marker else 0) | codec.payload_type
            header = _HEADER.pack(0x80, second, self._seq, self._ts, self.ssrc)
            self._send_own(header + payload, target)
            self._source_marker = False
            self.tx += 1
            self._own_sent += 1
            self._own_octets += len(payload)
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + samples) & 0xFFFFFFFF

    def _send_own(self, packet: bytes, target: Address) -> None:
        sock = self.sock
        if sock is None:
            return
        # A full send buffer or an ICMP error from the party: dropped, as UDP drops.
        with contextlib.suppress(OSError):
            sock.sendto(packet, target)

    # --- RTCP ---------------------------------------------------------------------------

    def rtcp_received(self, data: bytes, addr: Address) -> None:
        latched = self._latched
        remote = self.remote
        trusted = (latched is not None and addr[0] == latched[0]) or (
            remote is not None and addr[0] == remote.signalling_address
        )
        if not trusted or self.closed:
            return
        self._rtcp_target = addr
        try:
            packets = parse_rtcp(data)
        except RtcpError:
            return
        now = self._now()
        for packet in packets:
            if isinstance(packet, SenderReport):
                if self._stats is not None and packet.ssrc == self._stats.ssrc:
                    self._stats.sender_report(packet.ntp_msw, packet.ntp_lsw, now)
                self._note_blocks(packet.reports)
            elif isinstance(packet, ReceiverReport):
                self._note_blocks(packet.reports)

    def _note_blocks(self, blocks: tuple[Any, ...]) -> None:
        if blocks:
            block = blocks[0]
            self._remote_fraction_lost = block.fraction_lost / 256
            self._remote_jitter_ms = round(block.jitter * 1000 / 8000, 3)

    def send_rtcp(self, wall_time: float) -> bool:
        """Send one compound report (SR while sending our own source, else RR) + SDES."""
        target = self._rtcp_target
        if target is None or self.rtcp_transport is None or self.closed:
            return False
        now = self._now()
        blocks = () if self._stats is None else (self._stats.report_block(now),)
        report: RtcpPacket
        if self.source is not None and self._own_sent:
            msw, lsw = ntp_from_unix(wall_time)
            report = SenderReport(
                ssrc=self.ssrc,
                ntp_msw=msw,
                ntp_lsw=lsw,
                rtp_timestamp=self._ts,
                packet_count=self._own_sent & 0xFFFFFFFF,
                octet_count=self._own_octets & 0xFFFFFFFF,
                reports=blocks,
            )
        else:
            report = ReceiverReport(ssrc=self.ssrc, reports=blocks)
        sdes = SourceDescription.for_cname(self.ssrc, self._cname)
        self.rtcp_transport.sendto(serialize_rtcp([report, sdes]), target)
        return True


def _payload_offset(data: bytes) -> int:
    """Offset of the payload: after the fixed header, CSRCs and any header extension."""
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10 and len(data) >= offset + 4:
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    return offset
