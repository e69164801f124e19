"""The offer/answer model for audio (RFC 3264) on top of :mod:`tamas.sip.sdp`.

Theory of operation
-------------------
An answer has exactly one m= line per offered m= line, in the same order (RFC 3264 section 6).
For each offered audio stream over a profile we carry (``RTP/AVP`` by default) :func:`make_answer`
keeps, in the offerer's order, every offered format whose encoding name (case-insensitive) and
clock rate match a codec we support, under the offerer's payload type numbers (section 6.1: a
dynamic type is recognised through its ``a=rtpmap``), plus ``telephone-event`` (RFC 4733) at a
matching clock rate. A stream we cannot or will not take is rejected with port 0 and the offered
formats (section 6). If no audio stream survives, the whole offer is refused with 488.

Directions (section 6.1) are the intersection of what the offerer allows and what we want: we
send only if the offer says the offerer receives and we want to send, and the other way round.
This yields sendonly -> recvonly, recvonly -> sendonly, inactive -> inactive and sendrecv -> our
preference.

:func:`negotiated` reads a completed exchange from one side's point of view. Each side sends
with the payload type numbers the *other* side put in its description (RFC 3264 section 5.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from tamas.sip.errors import NotAcceptableHere
from tamas.sip.sdp import (
    STATIC_PAYLOAD_TYPES,
    Attribute,
    Connection,
    Direction,
    MediaDescription,
    Origin,
    RtpMap,
    SessionDescription,
    Timing,
)

__all__ = [
    "G722",
    "G729",
    "GSM",
    "PCMA",
    "PCMU",
    "TELEPHONE_EVENT",
    "Codec",
    "NegotiatedStream",
    "NotAcceptableHere",
    "Role",
    "make_answer",
    "make_offer",
    "negotiated",
]


@dataclass(frozen=True, slots=True)
class Codec:
    """An RTP payload format. ``payload_type`` None means "static number or pick a dynamic one"."""

    encoding: str
    clock_rate: int
    channels: int = 1
    payload_type: int | None = None
    fmtp: str | None = None

    def matches(self, rtpmap: RtpMap) -> bool:
        return (
            self.encoding.lower() == rtpmap.encoding.lower()
            and self.clock_rate == rtpmap.clock_rate
        )

    @property
    def rtpmap(self) -> RtpMap:
        return RtpMap(self.encoding, self.clock_rate, self.channels)

    @property
    def is_dtmf(self) -> bool:
        return self.encoding.lower() == "telephone-event"


PCMU = Codec("PCMU", 8000, payload_type=0)
PCMA = Codec("PCMA", 8000, payload_type=8)
G722 = Codec("G722", 8000, payload_type=9)
GSM = Codec("GSM", 8000, payload_type=3)
G729 = Codec("G729", 8000, payload_type=18)
TELEPHONE_EVENT = Codec("telephone-event", 8000, payload_type=101, fmtp="0-16")


class Role(StrEnum):
    """Which side of an offer/answer exchange ``negotiated`` speaks for."""

    OFFERER = "offerer"
    ANSWERER = "answerer"


@dataclass(frozen=True, slots=True, kw_only=True)
class NegotiatedStream:
    """An accepted audio stream, seen from the local side."""

    index: int  #: position of the m= line in both descriptions
    codec: Codec  #: the codec to send; its payload_type is the number the peer declared
    local_payload_type: int  #: number the peer uses for that codec when sending to us
    dtmf_payload_type: int | None  #: telephone-event number to send, if both sides have it
    local_dtmf_payload_type: int | None  #: telephone-event number the peer sends to us
    remote_address: str  #: where to send RTP
    remote_port: int
    direction: Direction  #: local direction: may we send, will we receive

    @property
    def payload_type(self) -> int | None:
        """The payload type to send with (always set on a negotiated codec)."""
        return self.codec.payload_type


_SUPPORTED_PROTOS = frozenset({"RTP/AVP"})


def make_answer(
    offer: SessionDescription,
    *,
    local_address: str,
    ports: Sequence[int],
    supported: Sequence[Codec],
    session_id: int | str,
    session_version: int,
    username: str = "-",
    direction: Direction | str | None = None,
    dtmf: bool = True,
    protos: frozenset[str] = _SUPPORTED_PROTOS,
) -> SessionDescription:
    """Answer ``offer`` (RFC 3264 section 6).

    ``ports`` are handed out in order to the audio streams we accept; audio streams beyond them
    are rejected, so one port means "at most one audio stream". ``direction`` is the local
    preference (default sendrecv). Raises :class:`NotAcceptableHere` if no audio stream is
    acceptable.
    """
    wanted = Direction(direction) if direction is not None else Direction.SENDRECV
    free_ports = list(ports)
    media: list[MediaDescription] = []
    accepted = 0
    for offered in offer.media:
        answer = None
        if free_ports and _answerable(offered, protos):
            answer = _answer_stream(offer, offered, supported, wanted, free_ports[0], dtmf=dtmf)
        if answer is None:
            media.append(_rejected(offered))
        else:
            free_ports.pop(0)
            accepted += 1
            media.append(answer)
    if not accepted:
        raise NotAcceptableHere("no acceptable audio stream in the offer")
    return SessionDescription(
        origin=_origin(username, session_id, session_version, local_address),
        session_name="-",
        connection=Connection.for_address(local_address),
        timings=offer.timings or (Timing(),),  # t= must equal the offer's (RFC 3264 section 6)
        media=tuple(media),
    )


def _answerable(offered: MediaDescription, protos: frozenset[str]) -> bool:
    return offered.media == "audio" and not offered.rejected and offered.proto in protos


def _rejected(offered: MediaDescription) -> MediaDescription:
    return MediaDescription(
        media=offered.media, port=0, proto=offered.proto, formats=offered.formats
    )


def _answer_stream(
    offer: SessionDescription,
    offered: MediaDescription,
    supported: Sequence[Codec],
    wanted: Direction,
    port: int,
    *,
    dtmf: bool,
) -> MediaDescription | None:
    rtpmaps = offered.rtpmaps
    chosen: list[tuple[int, RtpMap, str | None]] = []
    for pt, rtpmap in rtpmaps.items():
        codec = next((c for c in supported if not c.is_dtmf and c.matches(rtpmap)), None)
        if codec is not None:
            chosen.append((pt, rtpmap, codec.fmtp or offered.fmtp(pt)))
    if all(rtpmap.encoding.lower() == "cn" for _, rtpmap, _ in chosen):
        return None  # nothing to carry voice (also covers "no match at all")
    if dtmf:
        events = {pt: r for pt, r in rtpmaps.items() if r.encoding.lower() == "telephone-event"}
        rates = {rtpmap.clock_rate for _, rtpmap, _ in chosen}
        # RFC 4733 section 2.5.1.2 asks for the audio codec's rate; with opus most stacks
        # offer telephone-event/8000 only, so fall back to whatever rate is offered.
        matching = [pt for pt, r in events.items() if r.clock_rate in rates] or list(events)[:1]
        chosen += [(pt, events[pt], offered.fmtp(pt)) for pt in matching]
    remote = offered.effective_direction(offer)
    answer_direction = Direction.of(
        sends=remote.receives and wanted.sends, receives=remote.sends and wanted.receives
    )
    attributes = [Attribute("rtpmap", f"{pt} {rtpmap}") for pt, rtpmap, _ in chosen]
    attributes += [Attribute("fmtp", f"{pt} {fmtp}") for pt, _, fmtp in chosen if fmtp]
    if offered.ptime is not None:
        attributes.append(Attribute("ptime", str(offered.ptime)))
    attributes.append(Attribute(answer_direction.value))
    return MediaDescription(
        media="audio",
        port=port,
        proto=offered.proto,
        formats=tuple(str(pt) for pt, _, _ in chosen),
        attributes=tuple(attributes),
    )


def _origin(username: str, session_id: int | str, version: int, address: str) -> Origin:
    return Origin(
        username, str(session_id), version, "IN", Connection.for_address(address).addrtype, address
    )


def make_offer(
    *,
    local_address: str,
    port: int,
    codecs: Sequence[Codec],
    session_id: int | str,
    session_version: int,
    username: str = "-",
    direction: Direction | str = Direction.SENDRECV,
    telephone_event: int | None = 101,
    ptime: int | None = None,
    proto: str = "RTP/AVP",
) -> SessionDescription:
    """A one-stream audio offer, as a B2BUA sends on its outbound leg.

    Codecs without a ``payload_type`` get their RFC 3551 static number or the next free dynamic
    one (96 and up). ``telephone_event`` is the RFC 4733 payload type, or None for no DTMF.
    """
    taken = {c.payload_type for c in codecs if c.payload_type is not None}
    if telephone_event is not None:
        taken.add(telephone_event)
    assigned: list[Codec] = []
    for codec in codecs:
        if codec.is_dtmf:
            continue
        pt = codec.payload_type
        if pt is None:
            pt = _static_pt(codec)
            if pt is None:
                pt = next(n for n in range(96, 128) if n not in taken)
            taken.add(pt)
        assigned.append(replace(codec, payload_type=pt))
    if telephone_event is not None:
        assigned.append(replace(TELEPHONE_EVENT, payload_type=telephone_event))
    attributes = [Attribute("rtpmap", f"{c.payload_type} {c.rtpmap}") for c in assigned]
    attributes += [Attribute("fmtp", f"{c.payload_type} {c.fmtp}") for c in assigned if c.fmtp]
    if ptime is not None:
        attributes.append(Attribute("ptime", str(ptime)))
    attributes.append(Attribute(Direction(direction).value))
    audio = MediaDescription(
        media="audio",
        port=port,
        proto=proto,
        formats=tuple(str(c.payload_type) for c in assigned),
        attributes=tuple(attributes),
    )
    return SessionDescription(
        origin=_origin(username, session_id, session_version, local_address),
        connection=Connection.for_address(local_address),
        media=(audio,),
    )


def _static_pt(codec: Codec) -> int | None:
    return next((n for n, r in STATIC_PAYLOAD_TYPES.items() if codec.matches(r)), None)


def negotiated(
    offer: SessionDescription, answer: SessionDescription, *, role: Role | str
) -> list[NegotiatedStream]:
    """The accepted RTP audio streams of a completed exchange, from ``role``'s side.

    The codec is the first one in the answer that the offer also listed (the answerer's
    preference, RFC 3264 section 6.1); CN and telephone-event are never chosen as the codec.
    Raises :class:`NotAcceptableHere` when the answer does not mirror the offer's m= lines.
    """
    if len(offer.media) != len(answer.media):
        raise NotAcceptableHere(
            f"answer has {len(answer.media)} m= lines, the offer {len(offer.media)}"
        )
    local_sd, remote_sd = (offer, answer) if Role(role) is Role.OFFERER else (answer, offer)
    streams: list[NegotiatedStream] = []
    for index, (offered, answered) in enumerate(zip(offer.media, answer.media, strict=True)):
        if offered.rejected or answered.rejected or offered.media != answered.media:
            continue
        local = local_sd.media[index]
        remote = remote_sd.media[index]
        stream = _stream(index, local_sd, local, remote_sd, remote, answered)
        if stream is not None:
            streams.append(stream)
    return streams


def _stream(
    index: int,
    local_sd: SessionDescription,
    local: MediaDescription,
    remote_sd: SessionDescription,
    remote: MediaDescription,
    answered: MediaDescription,
) -> NegotiatedStream | None:
    local_maps = local.rtpmaps
    remote_maps = remote.rtpmaps
    conn = remote.effective_connection(remote_sd)
    if conn is None:
        return None
    chosen: tuple[Codec, int] | None = None
    for rtpmap in answered.rtpmaps.values():
        if rtpmap.encoding.lower() in ("telephone-event", "cn"):
            continue
        send_pt = _find(remote_maps, rtpmap)
        recv_pt = _find(local_maps, rtpmap)
        if send_pt is not None and recv_pt is not None:
            fmtp = remote.fmtp(send_pt)
            codec = Codec(rtpmap.encoding, rtpmap.clock_rate, rtpmap.channels, send_pt, fmtp)
            chosen = (codec, recv_pt)
            break
    if chosen is None:
        return None
    codec, recv_pt = chosen
    dtmf_send, dtmf_recv = _dtmf(local_maps, remote_maps, codec.clock_rate)
    local_dir = local.effective_direction(local_sd)
    remote_dir = remote.effective_direction(remote_sd)
    direction = Direction.of(
        sends=local_dir.sends and remote_dir.receives and not conn.is_unspecified,
        receives=local_dir.receives and remote_dir.sends,
    )
    return NegotiatedStream(
        index=index,
        codec=codec,
        local_payload_type=recv_pt,
        dtmf_payload_type=dtmf_send,
        local_dtmf_payload_type=dtmf_recv,
        remote_address=conn.host,
        remote_port=remote.port,
        direction=direction,
    )


def _dtmf(
    local_maps: dict[int, RtpMap], remote_maps: dict[int, RtpMap], rate: int
) -> tuple[int | None, int | None]:
    """telephone-event numbers (send, receive), at the codec's rate if both sides have it."""
    rates = [r.clock_rate for r in remote_maps.values() if r.encoding.lower() == "telephone-event"]
    for clock_rate in sorted(rates, key=lambda r: r != rate):
        event = RtpMap(TELEPHONE_EVENT.encoding, clock_rate)
        send, recv = _find(remote_maps, event), _find(local_maps, event)
        if send is not None and recv is not None:
            return send, recv
    return None, None


def _find(rtpmaps: dict[int, RtpMap], wanted: RtpMap) -> int | None:
    """The first payload type mapped to ``wanted``'s encoding (case-insensitive) and rate."""
    for pt, rtpmap in rtpmaps.items():
        if (
            rtpmap.encoding.lower() == wanted.encoding.lower()
            and rtpmap.clock_rate == wanted.clock_rate
        ):
            return pt
    return None
