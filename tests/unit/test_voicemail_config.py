"""The ``voicemail:`` section: defaults, field rules and the cross-checks (each names its key)."""

from __future__ import annotations

import pytest

from tamas.config import ConfigError, parse_config
from tamas.config.loader import to_yaml
from tamas.config.voicemail import check_voicemail

EXT = "extensions:\n  - {number: '1001', password: x}\n"
BOXES = """voicemail:
  boxes:
    - {box: "1001", pin: "1234", email: al@example.com, name: Al}
    - {box: "600", pin: "987654", language: fa, greeting: /srv/support.wav}
"""


def test_defaults() -> None:
    vm = parse_config(EXT, "t.yaml").voicemail
    assert vm.boxes == ()
    assert (vm.own_box_number, vm.any_box_number, vm.max_seconds) == ("*97", "*98", 180)
    assert vm.email_attach is True
    assert (vm.smtp.host, vm.smtp.port, vm.smtp.starttls) == ("127.0.0.1", 25, False)
    assert vm.smtp.username is None and vm.smtp.password is None


def test_boxes_are_read_and_survive_a_yaml_round_trip() -> None:
    config = parse_config(EXT + BOXES, "t.yaml")
    al = config.voicemail.mailbox("1001")
    support = config.voicemail.mailbox("600")
    assert al is not None and support is not None
    assert (al.pin, al.email, al.name, al.language, al.greeting) == (
        "1234", "al@example.com", "Al", "en", None)  # fmt: skip
    assert support.language == "fa" and str(support.greeting) == "/srv/support.wav"
    assert config.voicemail.mailbox("7") is None
    assert parse_config(to_yaml(config), "again.yaml") == config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("voicemail: {boxes: [{box: '1001', pin: '12'}]}", "voicemail.boxes[0].pin: must be 4"),
        ("voicemail: {boxes: [{box: '10a1', pin: '1234'}]}", "voicemail.boxes[0].box: must"),
        ("voicemail: {boxes: [{box: '1001'}]}", "voicemail.boxes[0].pin: required key"),
        (
            "voicemail: {boxes: [{box: '1001', pin: '1234', email: 'al at example'}]}",
            "voicemail.boxes[0].email: must be an e-mail address",
        ),
        (
            "voicemail: {boxes: [{box: '1001', pin: '1234', language: de}]}",
            "voicemail.boxes[0].language",
        ),
        ("voicemail: {max_seconds: 0}", "voicemail.max_seconds"),
        ("voicemail: {own_box_number: '*9x'}", "voicemail.own_box_number: may contain only"),
        ("voicemail: {smtp: {port: 0}}", "voicemail.smtp.port"),
        ("voicemail: {smtp: {from_address: nobody}}", "voicemail.smtp.from_address: must be"),
        ("voicemail: {smtp: {username: u}}", "voicemail.smtp: username and password go"),
        ("voicemail: {smtp: {hostname: x}}", "voicemail.smtp.hostname: unknown key"),
    ],
)
def test_field_errors_name_the_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(EXT + text + "\n", "t.yaml")
    assert expected in str(info.value)


def paths(text: str) -> list[str]:
    """The voicemail issues of ``text`` (the loader runs check_voicemail with the others)."""
    try:
        config = parse_config(text, "t.yaml")
    except ConfigError as e:
        return [f"{i.path}: {i.message}" for i in e.issues]
    return [f"{i.path}: {i.message}" for i in check_voicemail(config)]


def test_a_consistent_section_has_no_issue() -> None:
    assert paths(EXT + BOXES) == []


def test_a_box_defined_twice() -> None:
    text = EXT + BOXES + '    - {box: "1001", pin: "5555"}\n'
    assert paths(text) == [
        "voicemail.boxes[2].box: box 1001 is already defined at voicemail.boxes[0]"
    ]


def test_access_numbers_must_be_free_and_distinct() -> None:
    text = EXT + "voicemail: {own_box_number: '1001', any_box_number: '1001'}\n"
    assert paths(text) == [
        "voicemail.own_box_number: this number is taken by an extension or application",
        "voicemail.any_box_number: this number is taken by an extension or application",
        "voicemail.any_box_number: the same number as own_box_number",
    ]
    echo = EXT + "media: {applications: [{number: '*98', kind: echo}]}\n"
    assert paths(echo) == [
        "voicemail.any_box_number: this number is taken by an extension or application"
    ]
    off = EXT + "voicemail: {own_box_number: null, any_box_number: null}\n"
    assert paths(off) == []


def test_a_voicemail_application_must_name_a_defined_box() -> None:
    apps = "media: {applications: [{number: '*99', kind: voicemail, box: '1002'}]}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(EXT + BOXES + apps, "t.yaml")
    issues = list(info.value.issues)
    assert [(i.path, i.got) for i in issues] == [("media.applications[0].box", "'1002'")]
    assert "1001, 600" in issues[0].hint
    good = apps.replace("1002", "1001")
    assert paths(EXT + BOXES + good) == []
