"""The trunk key ``dtmf``: how a carrier sends key presses (RFC 4733 or tones in the audio)."""

from __future__ import annotations

import pytest

from tamas.config import ConfigError, parse_config

TRUNK = "trunks:\n  - name: provider\n    host: 192.0.2.1\n"


def test_dtmf_defaults_to_rfc4733() -> None:
    config = parse_config(TRUNK, "tamas.yaml")
    trunk = config.trunk("provider")
    assert trunk is not None and trunk.dtmf == "rfc4733"


def test_dtmf_inband() -> None:
    config = parse_config(TRUNK + "    dtmf: inband\n", "tamas.yaml")
    trunk = config.trunk("provider")
    assert trunk is not None and trunk.dtmf == "inband"


def test_a_bad_dtmf_value_is_reported_with_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(TRUNK + "    dtmf: inbound\n", "tamas.yaml")
    message = str(info.value)
    assert message.startswith(
        "tamas.yaml:4:5: trunks[0].dtmf: Input should be 'rfc4733' or 'inband' (got 'inbound')"
    ), message
    assert "did you mean 'inband'?" in message
