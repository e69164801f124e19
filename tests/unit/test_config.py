"""Configuration: the demo, defaults, overrides, YAML round trip and cross checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tamas.config import (
    Config,
    ConfigError,
    demo_yaml,
    load_config,
    parse_config,
    to_yaml,
    with_overrides,
)


def test_demo_center() -> None:
    config = load_config(None)
    assert config.server.bind == "127.0.0.1"
    # one pretend carrier on loopback (its DID reaches the IVR): no registration, and only
    # INVITEs from 127.0.0.1:5080 are its calls, so phones on this machine stay extensions
    (carrier,) = config.trunks
    assert (carrier.host, carrier.port, carrier.match_port, carrier.register) == (
        "127.0.0.1", 5080, True, False)  # fmt: skip
    assert [(r.did, r.destination) for r in config.inbound] == [("02191000100", "100")]
    assert [e.number for e in config.extensions] == [str(n) for n in range(1001, 1011)]
    first = config.extensions[0]
    assert (first.name, first.password, first.enabled) == ("Demo 1001", "demo1001", True)
    assert config.extensions[-1].password == "demo1010"
    assert config.demo_password_extensions() == tuple(e.number for e in config.extensions)


def test_demo_yaml_is_the_file_load_config_none_reads(tmp_path: Path) -> None:
    copy = tmp_path / "tamas.yaml"
    copy.write_text(demo_yaml(), encoding="utf-8")
    assert load_config(copy) == load_config(None)


def test_defaults_of_an_empty_file() -> None:
    config = parse_config("", "empty.yaml")
    assert config == Config()
    server = config.server
    ports = (server.sip_port, server.tls_port, server.ws_port, server.wss_port, server.http_port)
    assert ports == (5060, 5061, 8089, 8090, 8080)
    assert (server.domain, server.user_agent, server.advertised_address) == (
        "tamas.local",
        "Tamas",
        "127.0.0.1",
    )
    assert config.data_dir == Path("./tamas-data")
    assert config.logging.format == "text" and not config.logging.sip_trace
    assert config.security.rate_limit.messages_per_second == 100
    assert config.security.auth_ban.failures == 5
    assert config.security.nonce_ttl_seconds == 300


def test_database_url_default_and_explicit(tmp_path: Path) -> None:
    default = parse_config(f"data_dir: {tmp_path}", "x.yaml")
    assert default.database_url_resolved() == f"sqlite:///{tmp_path / 'tamas.db'}"
    pg = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert parse_config(f"database_url: {pg}", "x.yaml").database_url_resolved() == pg


FULL = """\
server: {bind: 0.0.0.0, external_address: 203.0.113.5, sip_port: 5080}
extensions:
  - {number: "1001", password: s3cret}
  - {number: "2000", name: Front desk, contact: "sip:2000@192.0.2.7:5060", ring_timeout: 20}
  - {number: "3000", enabled: false}
trunks:
  - name: provider
    host: sip.example.net
    transport: tls
    username: acme
    password: pw
    register: true
dialplan:
  - {prefix: "9", strip: 1, trunk: provider}
  - {prefix: "", trunk: provider}
inbound:
  - {did: "02100000000", destination: "1001", trunk: provider}
  - {did: "*", destination: "2000"}
"""


def test_a_full_configuration() -> None:
    config = parse_config(FULL, "full.yaml")
    assert config.server.advertised_address == "203.0.113.5"
    assert config.extension("2000") is not None
    assert config.extension("2000").display_name == "Front desk"  # type: ignore[union-attr]
    trunk = config.trunk("provider")
    assert trunk is not None and trunk.auth_user == "acme" and trunk.port == 5060
    assert config.inbound[0].did == "02100000000"
    assert config.demo_password_extensions() == ()


def test_round_trip_through_yaml() -> None:
    config = parse_config(FULL, "full.yaml")
    assert parse_config(to_yaml(config), "again.yaml") == config


def test_models_are_frozen() -> None:
    config = load_config(None)
    with pytest.raises(ValueError):
        config.server.bind = "0.0.0.0"  # type: ignore[misc]


def test_with_overrides(tmp_path: Path) -> None:
    base = load_config(None)
    changed = with_overrides(
        base, data_dir=tmp_path, bind="0.0.0.0", sip_port=5070, http_port=0, sip_trace=True
    )
    assert changed.data_dir == tmp_path
    assert (changed.server.bind, changed.server.sip_port, changed.server.http_port) == (
        "0.0.0.0",
        5070,
        0,
    )
    assert changed.logging.sip_trace is True
    assert changed.extensions == base.extensions
    assert with_overrides(base) == base


def test_with_overrides_names_the_option() -> None:
    with pytest.raises(ConfigError) as info:
        with_overrides(load_config(None), bind="example.com", sip_port=70000)
    text = str(info.value)
    assert "command line: --bind: must be an IP address" in text
    assert "command line: --sip-port:" in text


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read the file"):
        load_config(tmp_path / "missing.yaml")
