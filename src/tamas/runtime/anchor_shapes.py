"""Tamas's own SDP for anchored calls, built once per *shape* and stamped for each leg.

Theory of operation
-------------------
An anchored call makes Tamas write two session descriptions (an offer to the callee, an
answer to the caller, :mod:`tamas.runtime.anchor_sdp`) and work out twice what an engine leg
sends (:func:`~tamas.runtime.anchor_sdp.remote_media`, after RFC 3264 negotiation). Built from
scratch every time, that was the largest part of what anchoring cost per call. Yet between
two calls of the same kind of party only a few values change: the party's RTP address and
port and its o= line, Tamas's own port and session id. Everything else (the media sections,
codecs and their numbers, ptime, direction) is the exchange's *shape*, and what Tamas writes
and negotiates follows from the shape alone:

* :func:`shape_of` reduces a body to its shape: the o= line is dropped, c= addresses and
  non-zero m= ports are masked. What can change a result is kept: a zero port (a rejected
  stream), an unspecified c= address (``0.0.0.0``, the old way of holding), where c= lines
  are (session or media level), and every other line verbatim.
* :meth:`SdpShapes.stamp` builds Tamas's description once per key (the shape of the body it
  follows plus the builder's other arguments) with a placeholder port and session id, and then
  only writes the leg's port and session id into it: the description (its constructors)
  and its bytes (the o= and m= lines re-written, the other lines as built). Before a shape is
  used, stamping it with other values is checked to give exactly ``bytes()`` of the
  description; a description whose lines cannot be stamped that way is built in full each
  time.
* :meth:`SdpShapes.remote_media` caches the negotiated :class:`RemoteMedia` by the shapes of
  both sides and fills in the party's own address and port (from its stream's c= and m=),
  and the leg's signalling address.

The caches are bounded (cleared when full): a caller sending ever new shapes costs a full build
per call, as before, and nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from tamas.runtime.anchor_sdp import remote_media
from tamas.runtime.mediaengine.api import RemoteMedia
from tamas.sip.offer_answer import Role
from tamas.sip.sdp import SessionDescription

__all__ = ["SHAPE_PORT", "SHAPE_SESSION_ID", "SdpShapes", "shape_of"]

#: The port and session id a shape is built with (the discard port; replaced when stamped).
SHAPE_PORT = 9
SHAPE_SESSION_ID = 0
#: Entries per cache before it is cleared.
LIMIT = 512
_UNSPECIFIED = (b"0.0.0.0", b"::")


_SHAPES: dict[bytes, bytes] = {}


def shape_of(body: bytes) -> bytes:
    """``body`` without what differs between two calls of one party (see the module doc)."""
    if not body:
        return b""
    found = _SHAPES.get(body)
    if found is None:
        found = _shape_of(body)
        _remember_shape(body, found)
    return found


def _remember_shape(body: bytes, shape: bytes) -> None:
    if len(_SHAPES) >= 4 * LIMIT:
        _SHAPES.clear()
    _SHAPES[body] = shape


def _shape_of(body: bytes) -> bytes:
    out: list[bytes] = []
    for raw in body.split(b"\n"):
        line = raw.rstrip(b"\r")
        kind = line[:2]
        if kind == b"o=":
            continue
        if kind == b"c=":
            parts = line.split(b" ")
            if len(parts) == 3 and parts[2].split(b"/", 1)[0] not in _UNSPECIFIED:
                line = parts[0] + b" " + parts[1] + b" *"
        elif kind == b"m=":
            parts = line.split(b" ", 2)
            if len(parts) == 3:
                port, slash, count = parts[1].partition(b"/")
                if port.strip(b"0"):  # a zero port (rejected stream) is kept
                    line = parts[0] + b" #" + slash + count + b" " + parts[2]
        out.append(line)
    return b"\n".join(out)


@dataclass(frozen=True, slots=True)
class _Template:
    """A shape's description and its lines, with the slots stamping fills."""

    sd: SessionDescription
    lines: tuple[str, ...]
    index: int  # the media section that carries Tamas's port
    m_line: int  # its m= line among ``lines``
    o_prefix: str
    o_suffix: str
    m_prefix: str
    m_suffix: str
    shape: bytes  # shape_of every stamped body (the o= line and the m= port are masked)

    def body(self, port: int, session_id: str) -> bytes:
        lines = list(self.lines)
        lines[1] = self.o_prefix + session_id + self.o_suffix
        lines[self.m_line] = self.m_prefix + str(port) + self.m_suffix
        lines.append("")
        return "\r\n".join(lines).encode("utf-8", "surrogateescape")

    def description(self, port: int, session_id: str) -> SessionDescription:
        # constructor calls (the with_* methods), several times cheaper than dataclasses.replace
        sd = self.sd
        media = list(sd.media)
        media[self.index] = media[self.index].with_port(port)
        return sd.with_origin_media(sd.origin.with_sess_id(session_id), tuple(media))


def _fields(obj: Any, *leave: str) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.init and f.name not in leave}


def _template(sd: SessionDescription) -> _Template | None:
    """``sd`` (built with the placeholder port and session id) as a template, or None if its
    lines cannot be stamped exactly."""
    ours = [i for i, m in enumerate(sd.media) if m.port == SHAPE_PORT]
    if len(ours) != 1 or sd.origin.sess_id != str(SHAPE_SESSION_ID):
        return None
    index = ours[0]
    media = sd.media[index]
    if media.port_count is not None:
        return None
    lines = tuple(sd.lines())
    m_first = next(media.lines())
    if lines.count(m_first) != 1 or not lines[1].startswith("o="):
        return None
    o = sd.origin
    o_prefix = f"o={o.username} "
    o_suffix = f" {o.sess_version} {o.nettype} {o.addrtype} {o.address}"
    m_prefix = f"m={media.media} "
    if lines[1] != o_prefix + o.sess_id + o_suffix or not m_first.startswith(
        m_prefix + f"{SHAPE_PORT} "
    ):
        return None
    t = _Template(
        sd=sd,
        lines=lines,
        index=index,
        m_line=lines.index(m_first),
        o_prefix=o_prefix,
        o_suffix=o_suffix,
        m_prefix=m_prefix,
        m_suffix=m_first[len(m_prefix) + len(str(SHAPE_PORT)) :],
        shape=_shape_of(("\r\n".join(lines) + "\r\n").encode("utf-8", "surrogateescape")),
    )
    # the stamped bytes must be exactly those of the stamped description
    for port, sid in ((SHAPE_PORT, o.sess_id), (40000, "1234567")):
        if t.body(port, sid) != bytes(t.description(port, sid)):
            return None
    return t


class SdpShapes:
    """The shapes of Tamas's descriptions and of the negotiations they took part in."""

    def __init__(self) -> None:
        self._templates: dict[tuple[object, ...], _Template | None] = {}
        self._remotes: dict[tuple[object, ...], tuple[dict[str, Any], int] | None] = {}

    def stamp(
        self,
        key: tuple[object, ...],
        build: Callable[[int, int], SessionDescription],
        *,
        port: int,
        session_id: int,
    ) -> tuple[SessionDescription, bytes]:
        """``build(port, session_id)`` and its bytes; ``key`` names everything else ``build``
        depends on (the shapes of the bodies it reads and its other arguments)."""
        if key in self._templates:
            t = self._templates[key]
        else:
            if len(self._templates) >= LIMIT:
                self._templates.clear()
            t = self._templates[key] = _template(build(SHAPE_PORT, SHAPE_SESSION_ID))
        if t is None:
            sd = build(port, session_id)
            return sd, bytes(sd)
        sid = str(session_id)
        body = t.body(port, sid)
        # remote_media reads the shape of the body Tamas sent: known without reading it
        _remember_shape(body, t.shape)
        return t.description(port, sid), body

    def remote_media(
        self,
        offer: SessionDescription,
        answer: SessionDescription,
        *,
        role: Role,
        signalling_address: str,
        ours: bytes,
        theirs: bytes,
    ) -> RemoteMedia | None:
        """:func:`~tamas.runtime.anchor_sdp.remote_media` for Tamas being ``role``, ``ours``
        and ``theirs`` being the bodies of Tamas's and the party's description."""
        if not ours or not theirs:
            return remote_media(offer, answer, role=role, signalling_address=signalling_address)
        key = (role, shape_of(ours), shape_of(theirs))
        party = answer if role is Role.OFFERER else offer
        if key in self._remotes:
            hit = self._remotes[key]
        else:
            if len(self._remotes) >= LIMIT:
                self._remotes.clear()
            found = remote_media(offer, answer, role=role, signalling_address=signalling_address)
            hit = None if found is None else (_fields(found, "address", "port",
                                                      "signalling_address"),
                                              _stream_of(party, found))  # fmt: skip
            if hit is not None and hit[1] < 0:
                return found  # not placeable: not cached
            self._remotes[key] = hit
        if hit is None:
            return None
        others, index = hit
        m = party.media[index]
        conn = m.effective_connection(party)
        if conn is None:  # pragma: no cover - the shape keeps where c= lines are
            return remote_media(offer, answer, role=role, signalling_address=signalling_address)
        return RemoteMedia(address=conn.host, port=m.port, signalling_address=signalling_address,
                           **others)  # fmt: skip


def _stream_of(party: SessionDescription, found: RemoteMedia) -> int:
    """The index of the party's stream that ``found`` sends to (-1 if not exactly one)."""
    hits = [
        i
        for i, m in enumerate(party.media)
        if m.port == found.port
        and (c := m.effective_connection(party)) is not None
        and c.host == found.address
        and not m.rejected
    ]
    return hits[0] if len(hits) == 1 else -1
