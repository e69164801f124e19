"""The ``recording`` section and ``server.api_token``: defaults, the demo, the checks."""

from __future__ import annotations

import pytest

from tamas.config import ConfigError, parse_config
from tamas.config.loader import demo_yaml

EXT = "extensions:\n  - {number: '1001', password: x}\n"


def test_defaults_record_on_request_in_stereo_without_a_token() -> None:
    config = parse_config(EXT, "t.yaml")
    assert (config.recording.policy, config.recording.layout) == ("on_request", "stereo")
    assert config.recording.samples == "g711"
    assert config.server.api_token is None


def test_demo_records_every_answered_call() -> None:
    config = parse_config(demo_yaml(), "demo.yaml")
    assert config.recording.policy == "always" and config.recording.layout == "stereo"
    assert config.media.anchor and config.server.api_token is None


def test_settings_are_read() -> None:
    config = parse_config(
        EXT + "server: {api_token: s3cret}\n"
        "recording: {policy: always, layout: mono, samples: pcm16}\n",
        "t.yaml",
    )
    assert config.server.api_token == "s3cret"
    assert (config.recording.policy, config.recording.layout) == ("always", "mono")
    assert config.recording.samples == "pcm16"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("recording: {policy: sometimes}\n", "recording.policy"),
        ("recording: {layout: quad}\n", "recording.layout"),
        ("recording: {format: mp3}\n", "recording.format"),
        ("recording: {samples: flac}\n", "recording.samples"),
        ("server: {api_token: '  '}\n", "server.api_token: must not be empty"),
        (
            "media: {anchor: false}\nrecording: {policy: always}\n",
            "recording.policy: calls cannot be recorded when media.anchor is false",
        ),
    ],
)
def test_recording_checks(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(EXT + text, "t.yaml")
    assert expected in str(info.value)


def test_on_request_without_anchoring_is_accepted() -> None:
    config = parse_config(EXT + "media: {anchor: false}\n", "t.yaml")
    assert config.recording.policy == "on_request" and not config.media.anchor
