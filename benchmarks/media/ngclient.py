"""A minimal client for rtpengine's ng control protocol (bencoded dictionaries over UDP).

Each request is ``<cookie> <bencoded dict>``; the reply is ``<cookie> <bencoded dict>`` with a
``result`` key ("ok" or "error"). Only what the media benchmark needs: offer (recording the
call if asked), answer, delete.
"""

from __future__ import annotations

import itertools
import socket
from typing import Any

Value = Any


def bencode(value: Value) -> bytes:
    if isinstance(value, bytes):
        return str(len(value)).encode() + b":" + value
    if isinstance(value, str):
        return bencode(value.encode())
    if isinstance(value, bool):
        return bencode(int(value))
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, list | tuple):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def bdecode(data: bytes) -> Value:
    value, end = _decode(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes after the bencoded value")
    return value


def _decode(data: bytes, i: int) -> tuple[Value, int]:
    c = data[i : i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1 : end]), end + 1
    if c == b"l":
        out, i = [], i + 1
        while data[i : i + 1] != b"e":
            v, i = _decode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        d, i = {}, i + 1
        while data[i : i + 1] != b"e":
            k, i = _decode(data, i)
            v, i = _decode(data, i)
            d[k.decode()] = v
        return d, i + 1
    colon = data.index(b":", i)
    size = int(data[i:colon])
    start = colon + 1
    return data[start : start + size], start + size


class NgClient:
    """Synchronous ng requests to rtpengine on 127.0.0.1."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> None:
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self._cookies = itertools.count(1)

    def request(self, command: dict[str, Value]) -> dict[str, Value]:
        cookie = f"c{next(self._cookies)}".encode()
        self.sock.sendto(cookie + b" " + bencode(command), self.addr)
        while True:
            data, _ = self.sock.recvfrom(65536)
            got, _, body = data.partition(b" ")
            if got == cookie:
                break
        reply: dict[str, Value] = bdecode(body)
        if reply.get("result") != b"ok":
            raise RuntimeError(f"rtpengine {command['command']}: {reply}")
        return reply

    def close(self) -> None:
        self.sock.close()


def sdp(port: int, session: int) -> str:
    return (
        "v=0\r\n"
        f"o=- {session} 1 IN IP4 127.0.0.1\r\n"
        "s=-\r\n"
        "c=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=sendrecv\r\n"
    )


def media_port(sdp_text: bytes) -> int:
    for line in sdp_text.decode().splitlines():
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise ValueError("no m=audio line in the SDP")


def bridge_call(
    client: NgClient, index: int, port_a: int, port_b: int, *, record: bool = False
) -> tuple[int, int]:
    """Offer/answer one call; return (port A must send to, port B must send to). ``record``:
    rtpengine records the call ("record call" in the offer; it needs --recording-dir)."""
    call_id, from_tag, to_tag = f"bench-{index}", f"a{index}", f"b{index}"
    command: dict[str, Value] = {
        "command": "offer",
        "call-id": call_id,
        "from-tag": from_tag,
        "sdp": sdp(port_a, index),
    }
    if record:
        command["record call"] = "yes"
    offer = client.request(command)
    answer = client.request(
        {
            "command": "answer",
            "call-id": call_id,
            "from-tag": from_tag,
            "to-tag": to_tag,
            "sdp": sdp(port_b, index),
        }
    )
    return media_port(answer["sdp"]), media_port(offer["sdp"])
