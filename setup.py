"""Optional compiled build of Tamas's SIP hot path (everything else is in pyproject.toml).

``pip install .`` and ``pip install -e .`` build pure Python, as always. With
``TAMAS_COMPILE=1`` (non-editable installs only) the modules below are compiled to C
extensions with mypyc, the compiler that ships with mypy: the same source, type-checked by
``mypy --strict``, runs about 1.5x faster in memory (see benchmarks/README.md). The build
needs gcc and the Python headers. mypyc type-checks what it compiles, following imports into
pydantic, SQLAlchemy and the rest, so the isolated build environment gets mypy, the stub
packages and Tamas's own dependencies through ``setup_requires`` below. scripts/install.sh
builds the server this way, and scripts/test.sh runs the suite against both builds when
``TAMAS_TEST_COMPILED=1`` (as .ci/run does).

Which modules: the sans-IO ``tamas.core`` and ``tamas.sip`` packages, plus the runtime
modules every call passes through (``endpoint``, ``routing``, ``b2bua`` with its records
``calls``, its ``forking``, its in-dialog ``relay`` and its ``transfer``; media anchoring,
on every call by default: ``anchor``, ``anchor_sdp``, ``anchor_shapes``, ``sessions``; and
what every UDP datagram passes through on its way in: ``transport_udp``, ``transport_flows``
and the rate limit of ``protection``), the media engine's relay path (every RTP packet a
bridge relays: the leg ``runtime/mediaengine/leg``, its receiver statistics ``media/stats`` and
the RTP arithmetic ``media/rtp``, and the engine that opens, bridges and closes legs on every
anchored call, ``runtime/mediaengine/engine`` and ``ports``; a leg is a datagram protocol by its
methods, not by inheritance, because a native class cannot derive from
``asyncio.DatagramProtocol``), and
the ACD's engine (``acd.engine`` and the parts it calls, ``selection``, ``callback`` and
``presence``, plus ``model``, ``agent_state``, ``strategies``: the simulator runs a month of a
200-agent center about twice as fast compiled; ``acd.errors`` stays interpreted like the other
errors modules). The engine's parts name its ``Acd`` only under TYPE_CHECKING and compile and import
fine beside it. The runtime modules around the B2BUA import its records ``Call`` and ``Leg``
from ``calls`` (which imports none of them) at run time, and name ``B2BUA`` itself only under
TYPE_CHECKING, in signatures and plain attributes, never in a dataclass field: mypyc fills a
compiled dataclass's ``__annotations__`` with the fields' class objects as the module is
created (mypyc's ``add_non_ext_class_attr_ann``), so a field typed with a class that is only
imported under TYPE_CHECKING from a half-imported module crashed the import (segmentation
fault in module creation, mypy 2.4.1; that is why ``relay`` and ``transfer``, whose
dataclasses hold ``Leg`` and ``Call``, were interpreted until they imported them from
``calls``). ``runtime/transports`` (``Transports.send``, every SIP message out) stays
interpreted: compiled (mypy 2.4.1), uvloop's ``loop.close()`` hung after a TCP connection had
been served and closed (tests/integration/test_transports.py,
``test_tcp_framing_and_reply_on_the_same_flow[uvloop]``; the asyncio loop's variant passed).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
#: mypy version the compiled build is made and tested with, and the stubs mypy --strict needs.
BUILD_REQUIREMENTS = ["mypy==2.4.1", "types-PyYAML"]
RUNTIME_HOT = (
    "endpoint", "routing", "calls", "forking", "b2bua", "relay", "transfer",
    # media anchoring, on every call by default: SDP offer/answer and the engine legs' records
    "anchor", "anchor_sdp", "anchor_shapes", "sessions",
    # every UDP datagram in: the listener, the rate limit, the hand-over to the endpoint
    "transport_udp", "transport_flows", "protection",
)  # fmt: skip
#: The ACD: every queue event and every simulated call passes through it.
ACD_HOT = ("engine", "selection", "callback", "presence", "model", "agent_state", "strategies")
#: The media engine's relay path: every RTP packet a bridge relays passes through them
#: (the leg's protocol, its receiver statistics and the RTP arithmetic they use).
MEDIA_HOT = (
    "runtime/mediaengine/leg", "media/stats", "media/rtp",
    # opening, bridging and closing the legs of every anchored call
    "runtime/mediaengine/engine", "runtime/mediaengine/ports",
    # the recording tap, fed every packet of a recorded bridge, and its ring
    "runtime/recorder", "runtime/recorder_ring",
)  # fmt: skip
#: The simulator's loop, clock, draws and KPI fold: every simulated happening passes through.
SIM_HOT = ("simulation", "clock", "models", "summary")
#: Kept interpreted. errors.py: a compiled exception class loses its class-level defaults
#: (``ParseError().status`` raised AttributeError with mypy 2.4.1); errors are off the hot path.
INTERPRETED = {"__init__.py", "errors.py"}


def compiled_modules() -> list[str]:
    """Source paths (relative to this file) that ``TAMAS_COMPILE=1`` compiles."""
    src = HERE / "src" / "tamas"
    paths = sorted(src.glob("core/*.py")) + sorted(src.glob("sip/*.py"))
    paths += [src / "runtime" / f"{name}.py" for name in RUNTIME_HOT]
    paths += [src / "acd" / f"{name}.py" for name in ACD_HOT]
    paths += [src / "sim" / f"{name}.py" for name in SIM_HOT]
    paths += [src / f"{name}.py" for name in MEDIA_HOT]
    return [str(p.relative_to(HERE)) for p in paths if p.name not in INTERPRETED]


def build_requirements() -> list[str]:
    """mypy plus the project's dependencies (mypyc reads their types while compiling)."""
    with open(HERE / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return BUILD_REQUIREMENTS + list(project["dependencies"])


def want_compiled() -> bool:
    return os.environ.get("TAMAS_COMPILE", "") not in ("", "0")


def main() -> None:
    if not want_compiled():
        setup()
        return
    try:
        from mypyc.build import mypycify
    except ImportError:  # the first pass of an isolated build only collects setup_requires
        ext_modules = []
    else:
        ext_modules = mypycify(compiled_modules(), opt_level="3")
    setup(ext_modules=ext_modules, setup_requires=build_requirements())


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import the lists
    main()
