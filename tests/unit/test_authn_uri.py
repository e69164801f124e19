"""The digest-uri must name the Request-URI (RFC 3261 section 22.4): credentials computed for
one number cannot be reused to call another."""

import pytest

from tamas.runtime.authn import _same_uri
from tamas.sip.uri import parse_uri

R_URI = parse_uri("sip:1002@127.0.0.1:5060")


@pytest.mark.parametrize(
    ("digest_uri", "accepted"),
    [
        ("sip:1002@127.0.0.1:5060", True),  # what phones send: the Request-URI itself
        ("sip:127.0.0.1:5060", True),  # what SIPp sends: host and port only
        ("sip:9005@127.0.0.1:5060", False),  # credentials for another number
        ("sip:00441234567@127.0.0.1:5060", False),
        ("sip:127.0.0.1:5070", False),  # another server
        ("sips:1002@127.0.0.1:5060", False),
        ("not a uri", False),
    ],
)
def test_digest_uri_must_name_the_request_uri(digest_uri: str, accepted: bool) -> None:
    assert _same_uri(digest_uri, R_URI) is accepted
