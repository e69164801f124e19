"""The IVR flows API over real HTTP (uvicorn on 127.0.0.1), on SQLite and PostgreSQL: what it
stores, what it refuses, and the running flows it changes. The center is a stand-in holding
the real :class:`CenterFlows` (all the routes use); test_ivr_flows_live runs a real one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette
from webserve import http, serve_app

from tamas.config.model import Config
from tamas.ivr.model import Destination, MenuStep
from tamas.runtime.callcenter.flows import CenterFlows
from tamas.store import open_store
from tamas.store.ivr_flows import IvrFlows, StoredFlow
from tamas.web.ivr import ivr_routes

CONFIG = """
queues: [{name: sales}, {name: support}]
media:
  anchor: true
  applications:
    - {number: "500", kind: ivr, flow: main}
    - {number: "600", kind: ivr, flow: promo}
ivr:
  main:
    steps:
      - id: menu
        menu: {prompt: "1 for sales", options: {"1": {queue: sales}}}
"""
# "promo" is reached by number 600 but lives only in the database (as if made by the API
# before; the configuration check would refuse this file, the run-time rule is tested here).
BASE = "/api/v1/ivr/flows"


def menu(queue: str) -> dict[str, Any]:
    return {"steps": [{"id": "menu", "menu": {"prompt": "Press 1",
                                              "options": {"1": {"queue": queue}}}}]}  # fmt: skip


@dataclass
class Center:
    ivr_flows: CenterFlows


@dataclass
class Api:
    url: str
    repo: IvrFlows
    flows: CenterFlows

    async def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        status, _, raw = await http(method, self.url + path, body)
        return status, (json.loads(raw) if raw else None)

    def option_1(self, name: str) -> str:
        step = self.flows[name].steps[0]
        assert isinstance(step, MenuStep)
        target = dict(step.options)["1"]
        assert isinstance(target, Destination)
        return target.target


def serve(store_url: str, scenario: Callable[[Api], Awaitable[None]],
          stored: tuple[StoredFlow, ...] = ()) -> None:  # fmt: skip
    with open_store(store_url) as store:
        repo = IvrFlows(store.engine)
        for flow in stored:
            repo.put(flow)
        flows = CenterFlows(Config.model_validate(yaml.safe_load(CONFIG)))
        clock = iter(float(t) for t in range(1000, 2000, 100))
        routes = ivr_routes(Center(flows), repo, clock=lambda: next(clock))  # type: ignore[arg-type]

        async def main() -> None:
            async with serve_app(Starlette(routes=routes)) as url:
                await scenario(Api(url, repo, flows))

        asyncio.run(main())


PROMO = StoredFlow(name="promo", definition=menu("sales"), updated_at=10.0, updated_by="ann")


def test_list_get_and_put_change_the_running_flows(store_url: str) -> None:
    async def scenario(api: Api) -> None:
        status, body = await api.call("GET", BASE)
        assert status == 200
        assert body == {"flows": [
            {"name": "main", "source": "yaml", "updated_at": None, "updated_by": None,
             "in_yaml": True},
            {"name": "promo", "source": "database", "updated_at": 10.0, "updated_by": "ann",
             "in_yaml": False},
        ]}  # fmt: skip
        status, body = await api.call("GET", f"{BASE}/main")
        assert status == 200 and body["flow"]["definition"] == yaml.safe_load(CONFIG)["ivr"]["main"]
        assert (await api.call("GET", f"{BASE}/nope"))[0] == 404

        status, body = await api.call("PUT", f"{BASE}/main", menu("support"))
        assert status == 201, body  # new in the database (it overrides the file's)
        assert body["flow"] == {"name": "main", "source": "database", "updated_at": 1000.0,
                                "updated_by": "api", "in_yaml": True,
                                "definition": menu("support")}  # fmt: skip
        assert api.option_1("main") == "support"  # in effect at once
        stored = await asyncio.to_thread(api.repo.get, "main")
        assert stored is not None and stored.definition == menu("support")

        status, body = await api.call("PUT", f"{BASE}/main", menu("sales"))
        assert status == 200 and body["flow"]["updated_at"] == 1100.0  # replaced
        assert api.option_1("main") == "sales"

        status, body = await api.call("PUT", f"{BASE}/late", menu("support"))
        assert status == 201  # stored, reachable from nothing yet: allowed
        assert "late" in api.flows

    serve(store_url, scenario, (PROMO,))


def test_a_bad_flow_is_400_with_flow_step_and_path_and_nothing_changes(store_url: str) -> None:
    async def scenario(api: Api) -> None:
        status, body = await api.call("PUT", f"{BASE}/main", menu("salse"))
        assert status == 400
        assert body == {
            "error": "invalid",
            "message": "ivr flow 'main', step 'menu' (main.steps[0].menu.options.1.queue): "
                       "queue 'salse' does not exist (queues: sales, support)",
            "flow": "main", "step": "menu",
            "path": ["steps", 0, "menu", "options", "1", "queue"],
        }  # fmt: skip
        bad_goto = {"steps": [{"id": "a", "goto": "b"}]}
        status, body = await api.call("PUT", f"{BASE}/main", bad_goto)
        assert (status, body["step"], body["path"]) == (400, "a", ["steps", 0, "goto"])
        status, body = await api.call("PUT", f"{BASE}/main", {"steps": [], "colour": 1})
        assert (status, body["step"], body["path"]) == (400, None, ["colour"])
        for raw in (b"not json", b"[1, 2]"):
            status, body = await api.call("PUT", f"{BASE}/main", raw)
            assert (status, body["error"]) == (400, "invalid")
        assert await asyncio.to_thread(api.repo.list) == []
        assert api.option_1("main") == "sales"

    serve(store_url, scenario)


def test_delete_falls_back_to_the_file_404_and_409(store_url: str) -> None:
    async def scenario(api: Api) -> None:
        assert (await api.call("DELETE", f"{BASE}/main"))[0] == 404  # only in the file
        assert (await api.call("DELETE", f"{BASE}/nope"))[0] == 404
        assert (await api.call("PUT", f"{BASE}/main", menu("support")))[0] == 201
        assert await api.call("DELETE", f"{BASE}/main") == (204, None)
        assert api.option_1("main") == "sales"  # the file's version again
        _, body = await api.call("GET", f"{BASE}/main")
        assert body["flow"]["source"] == "yaml"
        assert await asyncio.to_thread(api.repo.get, "main") is None

        status, body = await api.call("DELETE", f"{BASE}/promo")
        assert status == 409
        assert body["error"] == "in_use"
        assert body["references"] == ["application 600 (media.applications[1].flow)"]
        assert "promo" in api.flows and await asyncio.to_thread(api.repo.get, "promo")

    serve(store_url, scenario, (PROMO,))


def test_stored_flows_are_laid_over_the_file_when_the_routes_are_made(store_url: str) -> None:
    stored = StoredFlow(name="main", definition=menu("support"), updated_at=7.0, updated_by="x")

    async def scenario(api: Api) -> None:
        assert api.option_1("main") == "support"  # read from the database at start
        _, body = await api.call("GET", f"{BASE}/main")
        assert (body["flow"]["source"], body["flow"]["updated_at"]) == ("database", 7.0)

    serve(store_url, scenario, (stored,))


@pytest.mark.parametrize("name", ["a" * 201])
def test_a_too_long_name_is_refused(store_url: str, name: str) -> None:
    async def scenario(api: Api) -> None:
        status, body = await api.call("PUT", f"{BASE}/{name}", menu("sales"))
        assert (status, body["error"]) == (400, "invalid")

    serve(store_url, scenario)
