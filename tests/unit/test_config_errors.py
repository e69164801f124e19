"""Every configuration problem is reported as file:line:column: key: what — how to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tamas.config import ConfigError, load_config, parse_config


def error_of(text: str, name: str = "tamas.yaml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, name)
    return info.value


def test_the_example_from_the_brief() -> None:
    text = "\n".join(["# padding"] * 11) + "\ntrunks:\n  - name: provider\n    port: abc\n"
    text = text.replace("  - name: provider\n", "  - name: provider\n    host: 192.0.2.1\n")
    message = str(error_of(text))
    assert message.startswith("tamas.yaml:15:5: trunks[0].port: Input should be a valid integer")
    assert "(got 'abc') — use a number 1-65535" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("server:\n  bind: localhost\n", "tamas.yaml:2:3: server.bind: must be an IP address"),
        (
            "server:\n  sip_prot: 5070\n",
            "2:3: server.sip_prot: unknown key — did you mean 'sip_port'?",
        ),
        ("server:\n  http_port: 70000\n", "2:3: server.http_port: Input should be less than"),
        ("logging: {format: jsn}\n", "1:11: logging.format: Input should be 'text' or 'json'"),
        ("logging:\n  sip_trace: maybe\n", "2:3: logging.sip_trace: Input should be a valid bool"),
        (
            "extensions:\n  - number: 1001\n",
            "2:5: extensions[0].number: Input should be a valid string",
        ),
        (
            "extensions:\n  - {number: '10a1'}\n",
            "2:6: extensions[0].number: must contain only digits",
        ),
        ("extensions:\n  - {password: x}\n", "2:5: extensions[0].number: required key is missing"),
        ("extensions: {a: 1}\n", "1:1: extensions: should be a list"),
        ("server: 5\n", "1:1: server: should be a mapping (got 5)"),
        ("- a\n", "tamas.yaml:1:1: should be a mapping"),
        ("colour: blue\n", "1:1: colour: unknown key — remove it; allowed keys here: server,"),
        (
            "extensions:\n  - {number: '1', password: p, contact: 'tel:1'}\n",
            "extensions[0].contact: must be a SIP URI",
        ),
        (
            "trunks:\n  - {name: t, host: h, transport: udb}\n",
            "trunks[0].transport: Input should be 'udp', 'tcp' or 'tls' (got 'udb') — did you "
            "mean 'udp'?",
        ),
        (
            "dialplan:\n  - {prefix: '9x', trunk: t}\n",
            "dialplan[0].prefix: may contain only digits",
        ),
        ("server:\n  bind: 1.2.3.4\n  bind: 5.6.7.8\n", "3:3: server.bind: duplicate key"),
    ],
)
def test_field_errors(text: str, expected: str) -> None:
    assert expected in str(error_of(text))


def test_unquoted_number_hint_mentions_quotes() -> None:
    message = str(error_of("extensions:\n  - number: 1001\n"))
    assert 'put it in quotes: "1001"' in message


EXT = "extensions:\n  - {number: '1001', password: a}\n  - {number: '1002', password: b}\n"
TRUNK = "trunks:\n  - {name: provider, host: 192.0.2.1}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "extensions:\n  - {number: '1001', password: a}\n  - number: '1001'\n    password: b\n",
            "tamas.yaml:3:5: extensions[1].number: extension 1001 is already defined",
        ),
        (
            "extensions:\n  - number: '1001'\n    password: ''\n",
            "3:5: extensions[0].password: an enabled extension that registers needs a password",
        ),
        (
            "extensions:\n  - number: '1001'\n",
            "2:5: extensions[0].password: an enabled extension",  # absent key: the item's line
        ),
        (
            TRUNK + "  - {name: provider, host: 192.0.2.2}\n",
            "3:6: trunks[1].name: trunk name 'provider' is already used by trunks[0]",
        ),
        (
            TRUNK + EXT + "dialplan:\n  - prefix: '9'\n    trunk: providr\n",
            "8:5: dialplan[0].trunk: no trunk has this name (got 'providr') — did you mean "
            "'provider'?",
        ),
        (
            EXT + "dialplan:\n  - {trunk: x}\n",
            "dialplan[0].trunk: no trunk has this name (got 'x') — define the trunk",
        ),
        (
            EXT + "inbound:\n  - did: '021'\n    destination: '1009'\n",
            "6:5: inbound[0].destination: no extension, application or queue has this number "
            "(got '1009')",
        ),
        (
            TRUNK + EXT + "inbound:\n  - {did: '*', destination: '1001', trunk: other}\n",
            "inbound[0].trunk: no trunk has this name (got 'other') — use one of: provider",
        ),
        (
            "trunks:\n  - {name: p, host: h, register: true}\n",
            "trunks[0].register: registering to a trunk needs a username and a password",
        ),
        ("tls:\n  cert_file: a.pem\n", "tls.key_file: cert_file and key_file go together"),
    ],
)
def test_cross_checks(text: str, expected: str) -> None:
    assert expected in str(error_of(text))


def test_disabled_or_static_extensions_need_no_password() -> None:
    parse_config(
        "extensions:\n  - {number: '1', enabled: false}\n  - {number: '2', contact: 'sip:2@h'}\n",
        "ok.yaml",
    )


def test_all_problems_are_reported_in_file_order() -> None:
    error = error_of("server:\n  bind: nope\n  sip_port: x\nlogging: {level: loud}\n")
    lines = str(error).splitlines()
    assert [i.position.line for i in error.issues if i.position] == [2, 3, 4]
    assert len(lines) == 3 and all(line.startswith("tamas.yaml:") for line in lines)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("server:\n  bind: [1\n  x: 2\n", "bad.yaml:3:4: YAML syntax error: expected ',' or ']'"),
        ("server:\n\tbind: 1\n", "bad.yaml:2:1: YAML syntax error: found character '\\t'"),
        ("a: 'open\n", "bad.yaml:2:1: YAML syntax error"),
    ],
)
def test_yaml_syntax_errors_name_the_line(text: str, expected: str) -> None:
    assert str(error_of(text, "bad.yaml")).startswith(expected)


def test_file_name_is_the_path_given(tmp_path: Path) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text("server:\n  http_port: web\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:2:3: server.http_port:")
    assert info.value.source == str(path)
