"""The router's after-hours hook: new calls to a closed extension get NoRoute(480, Closed)."""

from __future__ import annotations

from test_routing import make_router

from tamas.config.model import Extension
from tamas.runtime.routing import CLOSED, ExtensionRoute, NoRoute

NOW = 1_795_996_800.0  # the router's own now (registrations); the hook keeps its own clock


def test_new_calls_to_a_closed_extension_are_not_routed_to_its_phones() -> None:
    router, _ = make_router()
    asked: list[str] = []

    def closed(ext: Extension) -> bool:
        asked.append(ext.number)
        return ext.number == "2000"

    assert isinstance(router.dial("2000", NOW), ExtensionRoute)  # no hook: rings as always
    router.closed = closed
    assert router.dial("2000", NOW) == NoRoute(480, CLOSED)  # dialed
    assert router.inbound(router.trunks["byip"], "02155550100", NOW) == NoRoute(
        480, "Temporarily Unavailable"
    )  # 1001: open, but no phone registered
    router.dial("9123", NOW)  # a trunk number: the hook is not asked
    assert asked == ["2000", "1001"]
    # the center ringing an extension itself (an agent, an extension: destination) is not
    # a call to the extension: it rings
    assert isinstance(router.to_extension("2000", NOW), ExtensionRoute)
