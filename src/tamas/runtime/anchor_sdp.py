"""The session descriptions Tamas sends when it anchors a call's media (RFC 3264).

Theory of operation
-------------------
With anchoring, each party negotiates with Tamas, never with the other party: Tamas's SDP to a
party names Tamas's address and that party's engine leg port. The codecs are still the
parties' own, so that the normal call is a plain packet relay:

* an **offer** Tamas sends on behalf of a party (:func:`anchored_offer`) lists the G.711
  formats of that party's first audio stream in its order and with its payload numbers, then
  the other G.711 law if it was missing (the engine transcodes PCMU <-> PCMA, so the far side
  may pick either), and telephone-event (RFC 4733) under the party's number or 101; its
  direction and ptime follow the party's;
* an **answer** Tamas gives (:func:`anchored_answer`) keeps exactly one codec: the one the
  far side chose if the offerer listed it (plain relay), else another one the engine
  transcodes to (the other G.711 law first), plus telephone-event if offered (RFC 3264
  section 6.1: formats from the offer only, under its numbers). Other streams (video, a second
  audio) are rejected with port 0 (section 6).

**G.722** (wideband; ``G722/8000``, static payload type 9, RFC 3551's clock-rate quirk) takes
part only when the configured codec preference (``media.codecs``) lists it, and only with a
party that offered it: an offer for such a party lists G.722 under the party's number, first
if the preference puts it before the G.711 laws, so two G.722 phones talk G.722 end to end
(plain relay). A callee that chose G.722 for a caller that did not offer it gets the caller's
G.711 (the engine transcodes), and the other way round. An answer with no codec to follow
(``prefer`` None: Tamas's own applications) keeps G.711 when it is offered.

:func:`remote_media` turns a completed exchange into the engine's
:class:`~tamas.runtime.mediaengine.api.RemoteMedia`, with the SIP peer's IP as the
``signalling_address`` (the engine sends to an SDP address only if it is that IP).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from tamas.runtime.mediaengine.api import Codec as EngineCodec
from tamas.runtime.mediaengine.api import CodecName, RemoteMedia
from tamas.sip.errors import ParseError
from tamas.sip.offer_answer import (
    G722,
    PCMA,
    PCMU,
    Codec,
    NotAcceptableHere,
    Role,
    make_answer,
    make_offer,
    negotiated,
)
from tamas.sip.sdp import Direction, MediaDescription, Origin, SessionDescription

__all__ = [
    "DEFAULT_CODECS",
    "anchored_answer",
    "anchored_offer",
    "audio_stream",
    "has_g711",
    "parse_sdp",
    "remote_media",
    "with_origin",
]

_LAWS = {"pcmu": CodecName.PCMU, "pcma": CodecName.PCMA}
_CODECS = {CodecName.PCMU: PCMU, CodecName.PCMA: PCMA, CodecName.G722: G722}
_ENGINE = _LAWS | {"g722": CodecName.G722}  # what the engine takes, by rtpmap name
#: The codec preference when none is configured: G.711 only, as before G.722 existed.
DEFAULT_CODECS: tuple[CodecName, ...] = (CodecName.PCMU, CodecName.PCMA)
_OTHER = {CodecName.PCMU: CodecName.PCMA, CodecName.PCMA: CodecName.PCMU}


@lru_cache(maxsize=1024)
def parse_sdp(body: bytes) -> SessionDescription | None:
    """``body`` parsed, or None if it is empty or not a valid session description.

    Cached (descriptions are immutable): a call's offer is read when the INVITE is checked,
    when the callee's offer is built from it and when the caller is answered."""
    if not body:
        return None
    try:
        return SessionDescription.parse(body)
    except ParseError:
        return None


def audio_stream(sd: SessionDescription) -> MediaDescription | None:
    """The first live RTP/AVP audio stream of ``sd``."""
    for m in sd.media:
        if m.media == "audio" and not m.rejected and m.proto == "RTP/AVP":
            return m
    return None


def has_g711(sd: SessionDescription, *, wideband: bool = False) -> bool:
    """Whether ``sd`` has an audio stream Tamas can anchor (PCMU or PCMA in it, or G.722 if
    ``wideband``: G.722 is enabled)."""
    m = audio_stream(sd)
    names = _ENGINE if wideband else _LAWS
    return m is not None and any(r.encoding.lower() in names and r.clock_rate == 8000
                                 for r in m.rtpmaps.values())  # fmt: skip


def anchored_offer(
    src: SessionDescription | None,
    *,
    address: str,
    port: int,
    session_id: int,
    version: int,
    direction: Direction | None = None,
    preference: tuple[CodecName, ...] = DEFAULT_CODECS,
) -> SessionDescription:
    """Tamas's offer from ``address:port``, carrying ``src``'s codecs (see the module doc);
    without ``src`` (nothing to follow), PCMU, PCMA and telephone-event 101 (and G.722 if
    ``preference`` lists it)."""
    codecs: list[Codec] = []
    wide: Codec | None = None
    wanted_wide = CodecName.G722 in preference
    telephone_event = 101
    ptime: int | None = None
    wanted = Direction.SENDRECV
    m = audio_stream(src) if src is not None else None
    if src is not None and m is not None:
        for pt, rtpmap in m.rtpmaps.items():
            name = rtpmap.encoding.lower()
            if name in _LAWS and rtpmap.clock_rate == 8000:
                codecs.append(replace(_CODECS[_LAWS[name]], payload_type=pt))
            elif name == "g722" and rtpmap.clock_rate == 8000 and wanted_wide and wide is None:
                wide = replace(G722, payload_type=pt)
            elif name == "telephone-event" and rtpmap.clock_rate == 8000:
                telephone_event = pt
        ptime = m.ptime
        wanted = m.effective_direction(src)
    for law in (CodecName.PCMU, CodecName.PCMA):
        if not any(c.encoding == law.value for c in codecs):
            codec = _CODECS[law]
            if any(c.payload_type == codec.payload_type for c in codecs):
                codec = replace(codec, payload_type=None)  # its static number is taken
            codecs.append(codec)
    if src is None and wanted_wide:
        wide = G722
    if wide is not None:
        if any(c.payload_type == wide.payload_type for c in codecs):
            wide = replace(wide, payload_type=None)
        codecs.insert(0 if _wide_first(preference) else len(codecs), wide)
    return make_offer(local_address=address, port=port, codecs=codecs, session_id=session_id,
                      session_version=version, telephone_event=telephone_event, ptime=ptime,
                      direction=direction or wanted)  # fmt: skip


def anchored_answer(
    offer: SessionDescription,
    *,
    address: str,
    port: int,
    prefer: CodecName | None,
    session_id: int,
    version: int,
    direction: Direction | None = None,
    preference: tuple[CodecName, ...] = DEFAULT_CODECS,
) -> SessionDescription:
    """Tamas's answer to ``offer`` from ``address:port`` with one codec, ``prefer`` if
    offered (see the module doc). Raises :class:`NotAcceptableHere` if the offer has no
    G.711 audio (nor G.722 when ``preference`` allows it)."""
    m = audio_stream(offer)
    listed: list[CodecName] = []  # the offer's usable codecs, in its order
    if m is not None:
        for r in m.rtpmaps.values():
            name = _ENGINE.get(r.encoding.lower())
            if name is None or r.clock_rate != 8000 or name in listed:
                continue
            if name is CodecName.G722 and CodecName.G722 not in preference:
                continue
            listed.append(name)
    if not listed:
        raise NotAcceptableHere("no PCMU or PCMA audio in the offer")
    laws = [c for c in listed if c is not CodecName.G722]
    if prefer is not None and prefer in listed:
        pass  # plain relay
    elif prefer is not None and prefer in _OTHER and _OTHER[prefer] in listed:
        prefer = _OTHER[prefer]  # the other G.711 law: a table lookup per byte
    else:
        prefer = laws[0] if laws else listed[0]  # G.711 when offered, else G.722
    return make_answer(offer, local_address=address, ports=[port], supported=[_CODECS[prefer]],
                       session_id=session_id, session_version=version,
                       direction=direction)  # fmt: skip


def remote_media(
    offer: SessionDescription,
    answer: SessionDescription,
    *,
    role: Role,
    signalling_address: str,
) -> RemoteMedia | None:
    """What Tamas sends to the far end after ``offer``/``answer`` (Tamas being ``role``), or
    None if no G.711 stream was agreed."""
    try:
        streams = negotiated(offer, answer, role=role)
    except NotAcceptableHere:
        return None
    for s in streams:
        law = _ENGINE.get(s.codec.encoding.lower())
        if law is None or s.codec.payload_type is None:
            continue
        ptime = _ptime(offer if role is Role.ANSWERER else answer, s.index)
        return RemoteMedia(
            address=s.remote_address,
            port=s.remote_port,
            codec=EngineCodec(payload_type=s.codec.payload_type, name=law),
            signalling_address=signalling_address,
            telephone_event_pt=s.dtmf_payload_type,
            ptime=ptime,
        )
    return None


def _wide_first(preference: tuple[CodecName, ...]) -> bool:
    """Whether ``preference`` puts G.722 before both G.711 laws."""
    if CodecName.G722 not in preference:
        return False
    at = preference.index(CodecName.G722)
    return all(law not in preference[:at] for law in (CodecName.PCMU, CodecName.PCMA))


def _ptime(remote: SessionDescription, index: int) -> int:
    ptime = remote.media[index].ptime
    return ptime if ptime else 20


def with_origin(sd: SessionDescription, origin: Origin) -> SessionDescription:
    """``sd`` under another o= line (a party sees one origin from Tamas for the whole call)."""
    return replace(sd, origin=origin)


def codec_of(sd: SessionDescription) -> CodecName | None:
    """The first G.711 law listed in ``sd``'s audio stream (what its sender prefers)."""
    m = audio_stream(sd)
    if m is None:
        return None
    for rtpmap in m.rtpmaps.values():
        law = _LAWS.get(rtpmap.encoding.lower())
        if law is not None:
            return law
    return None
