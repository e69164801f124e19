"""The OpenAPI document: valid OpenAPI 3.1, one path per route ``tamas serve`` mounts (and
no other), and schemathesis run against a served center over real HTTP (127.0.0.1).

The center is the real runtime (``tamas.runtime.app.serve``: SIP on ephemeral loopback
ports, anchored media, the event log, the report maintainer, the live board), with the HTTP
routes assembled as ``tamas.cli.serve_cmd`` assembles them, in a thread of its own; the
database holds the hand-built event log of the report tests and one contact.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31
from starlette.routing import BaseRoute, Route, WebSocketRoute
from webserve import http, serve_app

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from reportlog import LOG

from tamas import __version__
from tamas.config import Config, parse_config
from tamas.core.events import NONE, LogRecord
from tamas.runtime.app import Running, serve
from tamas.store import events as store_events
from tamas.store import open_store
from tamas.store.contacts import Contacts
from tamas.web.api import api_routes
from tamas.web.openapi import OPENAPI_PATH, openapi_document
from tamas.web.status import create_app

DOCUMENT = openapi_document(version=__version__)

CONFIG = """
data_dir: {data}
server: {{bind: 127.0.0.1, sip_port: 0, tls_port: 0, ws_port: 0, wss_port: 0, http_port: 0}}
media: {{port_min: 46100, port_max: 46199, prealloc_legs: 1}}
extensions:
  - {{number: "1001", name: Al, password: a1001}}
  - {{number: "1002", name: Bo, password: b1002}}
queues:
  - {{name: sales}}
  - {{name: support}}
agents:
  - {{id: a1, extension: "1001", queues: {{sales: 0}}}}
  - {{id: a2, extension: "1002", queues: {{sales: 0, support: 1}}}}
reports:
  teams: [{{name: all, queues: [sales, support], agents: [a1, a2]}}]
"""


def http_routes(running: Running, config: Config) -> list[BaseRoute]:
    """The routes ``tamas serve`` mounts (``tamas.web.api.api_routes``, the document's too)."""
    return api_routes(config, running)


class Center:
    """``tamas serve``'s runtime with its HTTP app, on a loop in a thread of its own."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.base = ""
        self.routes: list[BaseRoute] = []
        self._up = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tamas-center")

    def __enter__(self) -> Center:
        self._thread.start()
        while not self._up.wait(0.1):
            assert self._thread.is_alive(), f"the center did not start: {self._failure!r}"
        assert self._failure is None, self._failure
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by __enter__/__exit__ in the test's thread
            self._failure = exc
        finally:
            self._up.set()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        ready = asyncio.Event()
        task = asyncio.create_task(serve(self.config, ready=ready, stop=self._stop,
                                         services=[self._http]))  # fmt: skip
        await ready.wait()
        self._up.set()
        await task

    async def _http(self, running: Running) -> Callable[[], Awaitable[None]]:
        self.routes = http_routes(running, self.config)
        stack = contextlib.AsyncExitStack()
        self.base = await stack.enter_async_context(
            serve_app(create_app(running.stack, self.routes)))
        return stack.aclose


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    data = tmp_path_factory.mktemp("openapi") / "data"
    data.mkdir()
    config = parse_config(CONFIG.format(data=data), "openapi.yaml")
    # five weeks of arrivals in sales, one each 20 minutes up to now: enough to forecast
    now = time.time()
    arrivals = [LogRecord(seq=10_000 + i, at=now - 1200 * i, call_id=f"h{i}", queue="sales",
                          agent=NONE, event="ENTERQUEUE", data=("", "0912", "1"))
                for i in range(1, 36 * 72)]  # fmt: skip
    with open_store(config.database_url_resolved()) as store:
        store_events.append_many(store.engine, [*LOG, *arrivals])
        Contacts(store.engine).add({"name": "Sara Ahmadi", "numbers": ["0912 345 6789"]},
                                   now=1_800_000_000.0)  # fmt: skip
    with Center(config) as running:
        yield running


# -- the document ---------------------------------------------------------------------------


def _schemas(node: object) -> Iterator[object]:
    """Every JSON Schema in the document: components, parameters, bodies, responses."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema":
                yield value
            elif key == "schemas" and isinstance(value, dict):
                yield from value.values()
            else:
                yield from _schemas(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schemas(item)


def test_the_document_is_valid_openapi_31() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    meta = jsonschema_rs.validator_for(OPENAPI_31)
    assert [str(e) for e in meta.iter_errors(DOCUMENT)] == []
    # the meta-schema leaves the schemas themselves to JSON Schema 2020-12's own
    found = list(_schemas(DOCUMENT))
    assert len(found) > 60
    for schema in found:
        jsonschema_rs.meta.validate(schema)  # type: ignore[arg-type]
    # every $ref leads somewhere
    refs = set(re.findall(r"'\$ref': '#/components/(\w+)/(\w+)'", repr(DOCUMENT)))
    assert refs and all(name in DOCUMENT["components"][kind] for kind, name in refs)
    # the validators do reject what is wrong
    broken = {**DOCUMENT, "paths": {"/health": {"get": {"responses": {"200": {}}}}}}
    assert not meta.is_valid(broken)
    assert not jsonschema_rs.meta.is_valid({"type": "objekt"})


def test_the_document_is_served(center: Center) -> None:
    async def fetch() -> tuple[int, dict[str, str], bytes]:
        return await http("GET", center.base + OPENAPI_PATH)

    status, headers, body = asyncio.run(fetch())
    assert status == 200 and headers["content-type"] == "application/json"
    assert yaml.safe_load(body) == DOCUMENT  # JSON is YAML


def _operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in DOCUMENT["paths"].items()
            for method in item}  # fmt: skip


def test_every_route_is_documented_and_every_path_served(center: Center) -> None:
    routes = [r for r in center.routes if isinstance(r, Route)]
    served = {(m, r.path) for r in routes for m in (r.methods or ()) if m != "HEAD"}
    served |= {("GET", p) for p in ("/health", "/api/v1/registrations", "/api/v1/calls",
                                    "/api/v1/trunks")}  # create_app's own  # fmt: skip

    def route_of(method: str, path: str) -> str | None:
        concrete = re.sub(r"\{[^}]+\}", "x1", path)
        for m, template in served:
            regex = re.sub(r"\{[^}]+\}", "[^/]+", template)
            if m == method and re.fullmatch(regex, concrete):
                return template
        return None

    documented = _operations()
    unserved = sorted(op for op in documented if route_of(*op) is None)
    assert unserved == []
    covered = {(m, route_of(m, p)) for m, p in documented}
    assert sorted(served - covered) == []
    # the agents' actions are one route, documented action by action
    assert {p for m, p in documented if p.startswith("/api/v1/agents/")} == {
        f"/api/v1/agents/{{agent}}/{verb}" for verb in ("login", "logout", "pause", "unpause")
    }
    # the WebSocket, which OpenAPI cannot describe, is in the text
    sockets = [r.path for r in center.routes if isinstance(r, WebSocketRoute)]
    assert sockets == ["/api/v1/realtime/ws"]
    assert "/api/v1/realtime/ws" in DOCUMENT["info"]["description"]


# -- schemathesis ---------------------------------------------------------------------------

SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]  # fmt: skip
#: What schemathesis calls: every GET, and the staffing calculator (it changes nothing).
FUZZED = sorted(op for op in _operations() if op[0] == "GET" or op[1] == "/api/v1/wfm/staffing")
EXAMPLES = 12


def _erlang_a(case: Any) -> bool:
    """A staffing question with a patience (Erlang A), or a forecast with a long AHT: left
    out until tamas.wfm.erlang's birth-death chain is bounded (``{"calls": 100, "aht": 180,
    "patience": 1e300}`` never ends and fills the memory) and its search is faster."""
    given = [case.query or {}, case.body if isinstance(case.body, dict) else {}]
    if isinstance(case.body, dict):
        given += [i for i in case.body.get("intervals") or () if isinstance(i, dict)]
    if any(part.get("patience") is not None for part in given):
        return True
    # a forecast plan staffs 672 intervals: with an AHT of hours, each is a long Erlang search
    try:
        return float((case.query or {}).get("aht") or 0) > 3600
    except (TypeError, ValueError):
        return False


@pytest.mark.parametrize(("method", "path"), FUZZED, ids=[f"{m} {p}" for m, p in FUZZED])
def test_schemathesis(center: Center, method: str, path: str) -> None:
    operation = SCHEMA[path][method]

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy().filter(lambda case: not _erlang_a(case)))
    def check(case: Any) -> None:
        case.call_and_validate(base_url=center.base, checks=CHECKS)

    check()
