"""The SIP transports on real loopback sockets (ephemeral ports, 127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from tamas.runtime.tlscert import ensure_self_signed, server_context
from tamas.runtime.transports import Transports
from tamas.sip.errors import ParseError
from tamas.sip.message import Request, Response
from tamas.sip.peer import Peer

HOST = "127.0.0.1"
LOG = logging.getLogger("tamas.test.transports")
TIMEOUT = 5.0
SIP = Subprotocol("sip")

Item = Request | Response | ParseError
Run = Callable[[Coroutine[Any, Any, None]], None]


def options(call_id: str = "abc", transport: str = "UDP") -> bytes:
    return (
        f"OPTIONS sip:tamas.local SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} 127.0.0.1:5999;branch=z9hG4bK-{call_id}\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


RESPONSE = (
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-r\r\n"
    b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: r\r\nCSeq: 1 OPTIONS\r\n"
    b"Content-Length: 0\r\n\r\n"
)


class Sink:
    """Records what the transports deliver; can refuse peers and answer parse errors."""

    def __init__(self) -> None:
        self.items: asyncio.Queue[tuple[Item, Peer]] = asyncio.Queue()
        self.allowed = True
        self.transports: Transports | None = None

    def allow(self, peer: Peer) -> bool:
        return self.allowed

    def on_message(self, item: Item, peer: Peer) -> None:
        if isinstance(item, ParseError) and self.transports is not None:
            self.transports.send(b"SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n", peer)
        self.items.put_nowait((item, peer))

    async def next(self) -> tuple[Item, Peer]:
        return await asyncio.wait_for(self.items.get(), TIMEOUT)


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Iterator[Run]:
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if request.param == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        factory = uvloop.new_event_loop

    def runner(coro: Coroutine[Any, Any, None]) -> None:
        with asyncio.Runner(loop_factory=factory) as r:
            r.run(asyncio.wait_for(coro, 3 * TIMEOUT))

    yield runner


def started(sink: Sink) -> Transports:
    transports = Transports(sink, log=LOG)
    sink.transports = transports
    return transports


def udp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    sock.setblocking(False)
    return sock


async def recv_udp(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(loop.sock_recv(sock, 65535), TIMEOUT)


async def read_exactly(reader: asyncio.StreamReader, n: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(n), TIMEOUT)


# UDP


def test_udp_datagram_in_and_send_out(run: Run) -> None:
    async def scenario() -> None:
        sink = Sink()
        transports = started(sink)
        port = await transports.start_udp(HOST, 0)
        assert transports.local_address("udp") == (HOST, port)
        with udp_socket() as client:
            client.sendto(options(), (HOST, port))
            item, peer = await sink.next()
            assert isinstance(item, Request) and item.call_id == "abc"
            assert peer == Peer("UDP", HOST, client.getsockname()[1])
            transports.send(RESPONSE, peer)
            assert await recv_udp(client) == RESPONSE
        await transports.close()

    run(scenario())


def test_the_endpoints_sender_sends_udp_itself_and_the_rest_through_the_transports(
    run: Run,
) -> None:
    async def scenario() -> None:
        accepted: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        accepted = asyncio.Queue()

        async def on_client(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            accepted.put_nowait((r, w))

        server = await asyncio.start_server(on_client, HOST, 0)
        tcp_port = server.sockets[0].getsockname()[1]
        transports = started(Sink())
        sender = transports.sender
        with udp_socket() as client:
            udp_peer = Peer("UDP", HOST, client.getsockname()[1])
            sender.send(RESPONSE, udp_peer)  # no UDP listener yet: dropped, no error
            port = await transports.start_udp(HOST, 0)
            sender.send(RESPONSE, udp_peer)
            assert await recv_udp(client) == RESPONSE
            sender.send(RESPONSE, udp_peer)
            for _ in range(500):  # the source too: the listener's address
                try:
                    data, source = client.recvfrom(65535)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.01)
            assert data == RESPONSE and source == (HOST, port)
        await transports.start_tcp(HOST, 0)
        sender.send(options("tcp", "TCP"), Peer("TCP", HOST, tcp_port))
        reader, writer = await asyncio.wait_for(accepted.get(), TIMEOUT)
        assert await read_exactly(reader, len(options("tcp", "TCP"))) == options("tcp", "TCP")
        writer.close()
        await writer.wait_closed()
        await transports.close()
        server.close()
        await server.wait_closed()

    run(scenario())


def test_udp_malformed_datagram_is_delivered_as_parse_error(run: Run) -> None:
    async def scenario() -> None:
        sink = Sink()
        transports = Transports(sink, log=LOG)
        port = await transports.start_udp(HOST, 0)
        with udp_socket() as client:
            client.sendto(b"this is not SIP\r\n\r\n", (HOST, port))
            item, _ = await sink.next()
            assert isinstance(item, ParseError)
            client.sendto(options("after"), (HOST, port))
            item, _ = await sink.next()
            assert isinstance(item, Request) and item.call_id == "after"
        await transports.close()

    run(scenario())


def test_udp_disallowed_datagram_is_dropped(run: Run) -> None:
    async def scenario() -> None:
        sink = Sink()
        transports = Transports(sink, log=LOG)
        port = await transports.start_udp(HOST, 0)
        with udp_socket() as client:
            sink.allowed = False
            client.sendto(options("dropped"), (HOST, port))
            await asyncio.sleep(0.1)
            sink.allowed = True
            client.sendto(options("kept"), (HOST, port))
            item, _ = await sink.next()
            assert isinstance(item, Request) and item.call_id == "kept"
            assert sink.items.empty()
        await transports.close()

    run(scenario())


def test_sink_exceptions_do_not_kill_the_transport(run: Run) -> None:
    class Failing(Sink):
        def on_message(self, item: Item, peer: Peer) -> None:
            super().on_message(item, peer)
            raise RuntimeError("sink bug")

    async def scenario() -> None:
        sink = Failing()
        transports = Transports(sink, log=LOG)
        port = await transports.start_udp(HOST, 0)
        with udp_socket() as client:
            for call_id in ("one", "two"):
                client.sendto(options(call_id), (HOST, port))
                item, _ = await sink.next()
                assert isinstance(item, Request) and item.call_id == call_id
        await transports.close()

    run(scenario())


# TCP


def test_tcp_framing_and_reply_on_the_same_flow(run: Run) -> None:
    async def scenario() -> None:
        sink = Sink()
        transports = started(sink)
        port = await transports.start_tcp(HOST, 0)
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(options("one", "TCP") + options("two", "TCP"))
        first, peer1 = await sink.next()
        second, peer2 = await sink.next()
        assert [m.call_id for m in (first, second) if isinstance(m, Request)] == ["one", "two"]
        assert peer1 == peer2 and peer1.transport == "TCP" and peer1.flow > 0
        assert peer1.port == writer.get_extra_info("sockname")[1]

        split = options("split", "TCP")
        for chunk in (split[:10], split[10:100], split[100:]):
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.01)
        item, peer = await sink.next()
        assert isinstance(item, Request) and item.call_id == "split" and peer == peer1

        transports.send(RESPONSE, peer)
        assert await read_exactly(reader, len(RESPONSE)) == RESPONSE

        writer.write(b"\r\n\r\n")  # RFC 5626 keep-alive ping
        assert await read_exactly(reader, 2) == b"\r\n"
        writer.close()
        await writer.wait_closed()
        await transports.close()

    run(scenario())


def test_tcp_framing_error_answers_then_closes(run: Run) -> None:
    async def scenario() -> None:
        sink = Sink()
        transports = started(sink)
        port = await transports.start_tcp(HOST, 0)
        reader, writer = await asyncio.open_connection(HOST, port)
        no_length = options("bad", "TCP").replace(b"Content-Length: 0\r\n", b"")
        writer.write(options("good", "TCP") + no_length)
        good, _ = await sink.next()
        bad, _ = await sink.next()
        assert isinstance(good, Request) and isinstance(bad, ParseError)
        rest = await asyncio.wait_for(reader.read(), TIMEOUT)  # until EOF: the server closed
        assert rest.startswith(b"SIP/2.0 400 Bad Request\r\n")
        writer.close()
        await writer.wait_closed()
        await transports.close()

    run(scenario())


def test_tcp_disallowed_peer_is_disconnected(run: Run) -> None:
    async def scenario() -> None:
        sink = Sink()
        transports = Transports(sink, log=LOG)
        port = await transports.start_tcp(HOST, 0)
        reader, writer = await asyncio.open_connection(HOST, port)
        sink.allowed = False
        writer.write(options("dropped", "TCP"))
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        assert sink.items.empty()
        writer.close()
        await writer.wait_closed()
        await transports.close()

    run(scenario())


def test_idle_tcp_connections_are_closed(run: Run) -> None:
    async def scenario() -> None:
        transports = Transports(Sink(), log=LOG, idle_timeout=0.2)
        port = await transports.start_tcp(HOST, 0)
        reader, writer = await asyncio.open_connection(HOST, port)
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()
        await writer.wait_closed()
        await transports.close()

    run(scenario())


def test_tcp_outbound_connection_is_opened_and_reused(run: Run) -> None:
    async def scenario() -> None:
        accepted: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        accepted = asyncio.Queue()

        async def on_client(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            accepted.put_nowait((r, w))

        server = await asyncio.start_server(on_client, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        sink = Sink()
        transports = Transports(sink, log=LOG)
        await transports.start_tcp(HOST, 0)
        target = Peer("TCP", HOST, port)
        transports.send(options("out1", "TCP"), target)
        transports.send(options("out2", "TCP"), target)  # queued behind the connect
        reader, writer = await asyncio.wait_for(accepted.get(), TIMEOUT)
        expected = options("out1", "TCP") + options("out2", "TCP")
        assert await read_exactly(reader, len(expected)) == expected

        writer.write(RESPONSE)
        item, peer = await sink.next()
        assert isinstance(item, Response)
        assert (peer.transport, peer.host, peer.port) == ("TCP", HOST, port) and peer.flow > 0
        transports.send(options("out3", "TCP"), peer)
        transports.send(options("out4", "TCP"), target)
        expected = options("out3", "TCP") + options("out4", "TCP")
        assert await read_exactly(reader, len(expected)) == expected
        assert accepted.empty()

        writer.close()
        await writer.wait_closed()
        await transports.close()
        server.close()
        await server.wait_closed()

    run(scenario())


def test_send_to_dead_peers_does_not_raise(run: Run) -> None:
    async def scenario() -> None:
        with socket.socket() as s:  # a port with nobody listening
            s.bind((HOST, 0))
            dead_port = s.getsockname()[1]
        transports = Transports(Sink(), log=LOG)
        await transports.start_udp(HOST, 0)
        transports.send(options(), Peer("UDP", HOST, dead_port))
        transports.send(options(), Peer("TCP", HOST, dead_port))
        transports.send(options(), Peer("TCP", HOST, dead_port, flow=12345))
        transports.send(options(), Peer("WS", HOST, dead_port, flow=12345))
        await asyncio.sleep(0.1)
        await transports.close()

    run(scenario())


# TLS


def test_tls_with_self_signed_certificate(run: Run, tmp_path: Path) -> None:
    cert, key = ensure_self_signed(tmp_path)

    async def scenario() -> None:
        sink = Sink()
        transports = Transports(sink, log=LOG)
        port = await transports.start_tls(HOST, 0, server_context(cert, key))
        client_ctx = ssl.create_default_context()
        client_ctx.check_hostname = False
        client_ctx.verify_mode = ssl.CERT_NONE
        reader, writer = await asyncio.open_connection(HOST, port, ssl=client_ctx)
        writer.write(options("tls", "TLS"))
        item, peer = await sink.next()
        assert isinstance(item, Request) and item.call_id == "tls"
        assert peer.transport == "TLS" and peer.flow > 0
        transports.send(RESPONSE, peer)
        assert await read_exactly(reader, len(RESPONSE)) == RESPONSE
        writer.close()
        await writer.wait_closed()
        await transports.close()

    run(scenario())


def test_tls_outbound_between_two_instances(run: Run, tmp_path: Path) -> None:
    cert, key = ensure_self_signed(tmp_path)

    async def scenario() -> None:
        server_sink, client_sink = Sink(), Sink()
        server = Transports(server_sink, log=LOG)
        client = Transports(client_sink, log=LOG)
        port = await server.start_tls(HOST, 0, server_context(cert, key))
        client.send(options("tls-out", "TLS"), Peer("TLS", HOST, port))
        item, peer = await server_sink.next()
        assert isinstance(item, Request) and item.call_id == "tls-out"
        server.send(RESPONSE, peer)
        reply, _ = await client_sink.next()
        assert isinstance(reply, Response)
        await client.close()
        await server.close()

    run(scenario())


def test_self_signed_certificate_is_reused(tmp_path: Path) -> None:
    cert, key = ensure_self_signed(tmp_path)
    pem = cert.read_bytes()
    assert ensure_self_signed(tmp_path) == (cert, key)
    assert cert.read_bytes() == pem
    assert cert.parent == tmp_path / "tls"
    assert key.stat().st_mode & 0o077 == 0


# WebSocket


def test_websocket_with_sip_subprotocol(run: Run) -> None:
    async def scenario() -> None:
        sink = Sink()
        transports = Transports(sink, log=LOG)
        port = await transports.start_ws(HOST, 0)
        assert transports.local_address("WS") == (HOST, port)
        async with ws_connect(f"ws://{HOST}:{port}", subprotocols=[SIP]) as ws:
            assert ws.subprotocol == "sip"
            await ws.send(options("ws-text", "WS").decode())
            await ws.send(options("ws-binary", "WS"))
            await ws.send("not SIP at all")
            first, peer = await sink.next()
            second, peer2 = await sink.next()
            bad, _ = await sink.next()
            assert isinstance(first, Request) and first.call_id == "ws-text"
            assert isinstance(second, Request) and second.call_id == "ws-binary"
            assert isinstance(bad, ParseError)
            assert peer == peer2 and peer.transport == "WS" and peer.flow > 0
            assert peer.port == ws.local_address[1]
            transports.send(RESPONSE, peer)
            transports.send(options("after", "WS"), peer)
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == RESPONSE.decode()
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == options("after", "WS").decode()
        await transports.close()

    run(scenario())


def test_websocket_without_subprotocol_is_refused(run: Run) -> None:
    async def scenario() -> None:
        transports = Transports(Sink(), log=LOG)
        port = await transports.start_ws(HOST, 0)
        with pytest.raises(InvalidStatus) as refused:
            async with ws_connect(f"ws://{HOST}:{port}"):
                pass
        assert refused.value.response.status_code == 400
        await transports.close()

    run(scenario())


def test_secure_websocket(run: Run, tmp_path: Path) -> None:
    cert, key = ensure_self_signed(tmp_path)

    async def scenario() -> None:
        sink = Sink()
        transports = Transports(sink, log=LOG)
        port = await transports.start_ws(HOST, 0, server_context(cert, key))
        client_ctx = ssl.create_default_context()
        client_ctx.check_hostname = False
        client_ctx.verify_mode = ssl.CERT_NONE
        uri = f"wss://{HOST}:{port}"
        async with ws_connect(uri, subprotocols=[SIP], ssl=client_ctx) as ws:
            await ws.send(options("wss", "WSS").decode())
            item, peer = await sink.next()
            assert isinstance(item, Request) and peer.transport == "WSS"
        await transports.close()

    run(scenario())


def test_websocket_disallowed_peer_is_disconnected(run: Run) -> None:
    async def scenario() -> None:
        sink = Sink()
        transports = Transports(sink, log=LOG)
        port = await transports.start_ws(HOST, 0)
        async with ws_connect(f"ws://{HOST}:{port}", subprotocols=[SIP]) as ws:
            sink.allowed = False
            await ws.send(options("dropped", "WS"))
            await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
        assert sink.items.empty()
        await transports.close()

    run(scenario())
