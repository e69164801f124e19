import base64
import contextlib
import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tamas.sip.auth import (
    AuthResult,
    AuthStatus,
    Challenge,
    Credentials,
    DigestClient,
    DigestServer,
    digest_response,
    parse_challenge,
    parse_credentials,
    select_challenge,
)
from tamas.sip.errors import ParseError

REALM = "tamas.example"
SECRET = b"0123456789abcdef0123456789abcdef"
USERS = {"alice": "wonderland", "bob": "builder"}
T0 = 1_700_000_000.0


def server(**kwargs: object) -> DigestServer:
    return DigestServer(REALM, SECRET, **kwargs)  # type: ignore[arg-type]


def verify(
    srv: DigestServer, value: str, *, now: float = T0, method: str = "REGISTER"
) -> AuthResult:
    return srv.verify(value, method=method, password_for=USERS.get, now=now)


# --- Known answers: computed by this code, matching the RFC documents -------------------------


def test_rfc2617_section_3_5_md5_example() -> None:
    value = (
        'Digest username="Mufasa", realm="testrealm@host.com", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, '
        'nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    creds = parse_credentials(value)
    expected = digest_response(
        algorithm=creds.algorithm,
        username=creds.username,
        password="Circle Of Life",
        realm=creds.realm,
        method="GET",
        uri=creds.uri,
        nonce=creds.nonce,
        qop=creds.qop,
        nc=creds.nc,
        cnonce=creds.cnonce,
    )
    assert expected == creds.response == "6629fae49393a05397450978507c4ef1"


RFC7616 = {
    "realm": "http-auth@example.org",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
}


@pytest.mark.parametrize(
    ("algorithm", "response"),
    [
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ],
)
def test_rfc7616_section_3_9_1_example(algorithm: str, response: str) -> None:
    # RFC 7616's password is "Circle of Life" (lower-case "of"), unlike RFC 2617's.
    challenge = parse_challenge(
        f'Digest realm="{RFC7616["realm"]}", qop="auth, auth-int", algorithm={algorithm}, '
        f'nonce="{RFC7616["nonce"]}", opaque="{RFC7616["opaque"]}"'
    )
    assert challenge.qop == ("auth", "auth-int")
    client = DigestClient("Mufasa", "Circle of Life")
    creds = parse_credentials(
        client.authorize(challenge, method="GET", uri="/dir/index.html", cnonce=RFC7616["cnonce"])
    )
    assert creds == Credentials(
        username="Mufasa",
        realm=RFC7616["realm"],
        nonce=RFC7616["nonce"],
        uri="/dir/index.html",
        response=response,
        algorithm=algorithm,
        cnonce=RFC7616["cnonce"],
        opaque=RFC7616["opaque"],
        qop="auth",
        nc="00000001",
    )


def rfc2069_digest(**kw: Any) -> str:
    return digest_response(
        username="Mufasa",
        password="CircleOfLife",
        realm="testrealm@host.com",
        method="GET",
        uri="/dir/index.html",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        **kw,
    )


def test_rfc2069_style_and_sess_and_auth_int_digests() -> None:
    # RFC 2069 section 2.4's example (its text carries a known erratum; this is the errata value).
    assert rfc2069_digest(algorithm=None) == "1949323746fe6a43ef61f9606e7febea"
    sess = rfc2069_digest(algorithm="MD5-sess", cnonce="c")
    assert sess != rfc2069_digest(algorithm="MD5", cnonce="c")
    with pytest.raises(ValueError):
        rfc2069_digest(algorithm="MD5-sess")
    with pytest.raises(ValueError):
        rfc2069_digest(algorithm="SHA-512-256")
    with pytest.raises(ValueError):
        rfc2069_digest(algorithm="MD5", qop="auth-conf", nc="1", cnonce="c")
    with pytest.raises(ValueError):
        rfc2069_digest(algorithm="MD5", qop="auth")
    integrity = {"algorithm": "MD5", "qop": "auth-int", "nc": "00000001", "cnonce": "c"}
    assert rfc2069_digest(body=b"a", **integrity) != rfc2069_digest(body=b"b", **integrity)


# --- Header values ------------------------------------------------------------------------------


def test_parse_challenge_fields_and_unknown_params() -> None:
    challenge = parse_challenge(
        'digest Realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth,, auth-int", '
        'nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=true, algorithm=md5-SESS, '
        "x-ext=1"
    )
    assert challenge == Challenge(
        realm="atlanta.com",
        nonce="f84f1cec41e6cbe5aea9c8e88d359",
        opaque="",
        algorithm="MD5-sess",
        qop=("auth", "auth-int"),
        stale=True,
        domain="sip:ss1.carrier.com",
        extra=(("x-ext", "1"),),
    )
    assert parse_challenge(str(challenge)) == challenge
    assert str(challenge) == (
        'Digest realm="atlanta.com", domain="sip:ss1.carrier.com", '
        'nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=TRUE, algorithm=MD5-sess, '
        'qop="auth,auth-int", x-ext=1'
    )


def test_stale_other_than_true_is_false() -> None:
    assert not parse_challenge('Digest realm="r", nonce="n", stale=FALSE').stale
    assert not parse_challenge('Digest realm="r", nonce="n", stale="maybe"').stale
    assert parse_challenge('Digest realm="r", nonce="n", stale="TRUE"').stale


def test_credentials_round_trip_with_quoted_tokens_from_lenient_peers() -> None:
    value = (
        'Digest username="bob\\"s", realm="r", nonce="n", uri="sip:r", response="ab", '
        'algorithm="SHA-256", cnonce="c", qop="auth", nc=0000000A, userhash=false'
    )
    creds = parse_credentials(value)
    assert creds.username == 'bob"s'
    assert creds.algorithm == "SHA-256"
    assert creds.qop == "auth"
    assert creds.nc == "0000000A"
    assert creds.extra == (("userhash", "false"),)
    assert parse_credentials(str(creds)) == creds
    assert str(creds).startswith('Digest username="bob\\"s", realm="r"')


@pytest.mark.parametrize(
    "value",
    [
        'Basic realm="r"',
        'Digest nonce="n"',
        'Digest realm="r"',
    ],
)
def test_malformed_challenges(value: str) -> None:
    with pytest.raises(ParseError):
        parse_challenge(value)


@pytest.mark.parametrize(
    "value",
    [
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        'Digest realm="r", nonce="n", uri="u", response="x"',
        'Digest username="u", nonce="n", uri="u", response="x"',
        'Digest username="u", realm="r", uri="u", response="x"',
        'Digest username="u", realm="r", nonce="n", response="x"',
        'Digest username="u", realm="r", nonce="n", uri="u"',
        'Digest username="u", realm="r", nonce="n", uri="u", response="x", qop=auth, nc=00000001',
        'Digest username="u", realm="r", nonce="n", uri="u", response="x", qop=auth, cnonce="c"',
        'Digest username="u", realm="r", nonce="n", uri="u", response="x", nc=1',
        'Digest username="u", realm="r", nonce="n", uri="u", response="x", nc=0000000g',
    ],
)
def test_malformed_credentials(value: str) -> None:
    with pytest.raises(ParseError):
        parse_credentials(value)


@given(st.text())
def test_any_text_into_parse_credentials_raises_only_parse_error(value: str) -> None:
    with contextlib.suppress(ParseError):
        parse_credentials(value)


@given(st.text())
def test_any_text_into_parse_challenge_raises_only_parse_error(value: str) -> None:
    with contextlib.suppress(ParseError):
        parse_challenge(value)


digest_like = st.lists(
    st.sampled_from(
        [
            'username="alice"',
            "username=alice",
            f'realm="{REALM}"',
            'realm="other"',
            'nonce="AAAA"',
            'uri="sip:x"',
            'response="00"',
            "algorithm=SHA-256",
            "algorithm=MD5-sess",
            "algorithm=bogus",
            "qop=auth",
            "qop=auth-int",
            "nc=00000001",
            'cnonce="c"',
            'opaque="o"',
        ]
    ),
    max_size=12,
)


@given(digest_like, st.text(max_size=10))
def test_verify_never_raises(params: list[str], noise: str) -> None:
    srv = server()
    value = "Digest " + ", ".join(params) + noise
    result = verify(srv, value)
    assert result.status in {AuthStatus.MALFORMED, AuthStatus.FAILED}


# --- Server and client in memory ----------------------------------------------------------------


def test_challenge_lists_sha256_first_with_one_nonce() -> None:
    srv = server()
    values = srv.challenge(now=T0)
    challenges = [parse_challenge(v) for v in values]
    assert [c.algorithm for c in challenges] == ["SHA-256", "MD5"]
    assert len({c.nonce for c in challenges}) == 1
    # every challenge has a nonce of its own, even at the same instant
    assert srv.challenges(now=T0)[0].nonce != challenges[0].nonce
    assert all(c.qop == ("auth",) and c.opaque and c.realm == REALM for c in challenges)
    assert not any(c.stale for c in challenges)
    assert all(c.stale for c in srv.challenges(now=T0, stale=True))
    assert srv.challenges(now=T0 + 1)[0].nonce != challenges[0].nonce


def test_server_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        DigestServer(REALM, b"")
    with pytest.raises(ValueError):
        DigestServer(REALM, SECRET, algorithms=())
    with pytest.raises(ValueError):
        DigestServer(REALM, SECRET, algorithms=("SHA-512-256",))
    assert DigestServer(REALM, SECRET, algorithms=("md5", "MD5")).algorithms == ("MD5",)


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5", "SHA-256-sess", "MD5-sess"])
def test_round_trip(algorithm: str) -> None:
    srv = server(algorithms=(algorithm,))
    client = DigestClient("alice", "wonderland")
    (challenge,) = srv.challenge(now=T0)
    for n in range(1, 4):
        value = client.authorize(challenge, method="INVITE", uri="sip:bob@x", cnonce="cn")
        creds = parse_credentials(value)
        assert creds.nc == f"{n:08x}"
        assert creds.uri == "sip:bob@x"
        result = srv.verify(value, method="INVITE", password_for=USERS.get, now=T0 + n)
        assert result == AuthResult(status=AuthStatus.OK, username="alice")


def test_method_is_part_of_the_digest() -> None:
    srv = server()
    value = DigestClient("alice", "wonderland").authorize(
        srv.challenge(now=T0)[0], method="INVITE", uri="sip:x", cnonce="c"
    )
    assert verify(srv, value, method="BYE").status is AuthStatus.FAILED


def test_select_challenge_takes_first_supported() -> None:
    srv = server()
    values = [
        'Digest realm="r", nonce="n", algorithm=SHA-512-256',
        "garbage",
        *srv.challenge(now=T0),
    ]
    assert select_challenge(values).algorithm == "SHA-256"
    with pytest.raises(ParseError):
        select_challenge(['Digest realm="r", nonce="n", qop="auth-conf"', "Basic realm=x"])


def test_client_without_qop_and_with_auth_int() -> None:
    client = DigestClient("alice", "wonderland")
    plain = parse_credentials(
        client.authorize('Digest realm="r", nonce="n"', method="REGISTER", uri="sip:r", cnonce="c")
    )
    assert (plain.qop, plain.nc, plain.cnonce, plain.algorithm) == (None, None, None, None)
    sess = parse_credentials(
        client.authorize(
            'Digest realm="r", nonce="n", algorithm=MD5-sess', method="R", uri="u", cnonce="c"
        )
    )
    assert (sess.qop, sess.cnonce) == (None, "c")
    integrity = parse_credentials(
        client.authorize(
            'Digest realm="r", nonce="n", qop="auth-int"',
            method="R",
            uri="u",
            cnonce="c",
            body=b"x",
        )
    )
    assert integrity.qop == "auth-int"
    with pytest.raises(ParseError):
        client.authorize(
            'Digest realm="r", nonce="n", algorithm=X', method="R", uri="u", cnonce="c"
        )


def test_client_counts_per_nonce_and_bounds_its_memory() -> None:
    client = DigestClient("alice", "wonderland", max_nonces=2)

    def nc(nonce: str) -> str | None:
        challenge = Challenge(realm="r", nonce=nonce, qop=("auth",))
        return client.credentials(challenge, method="M", uri="u", cnonce="c").nc

    assert [nc("a"), nc("a"), nc("b"), nc("a")] == ["00000001", "00000002", "00000001", "00000003"]
    nc("c")  # evicts "b", the least recently used
    assert nc("b") == "00000001"


def test_rfc2069_response_is_accepted_once_then_stale() -> None:
    srv = server(algorithms=("MD5",))
    nonce = srv.challenges(now=T0)[0].nonce
    rfc2069 = Challenge(realm=REALM, nonce=nonce)
    value = DigestClient("alice", "wonderland").authorize(
        rfc2069, method="REGISTER", uri="u", cnonce="c"
    )
    assert "qop" not in value
    assert verify(srv, value).status is AuthStatus.OK
    assert verify(srv, value).status is AuthStatus.STALE


def test_missing_algorithm_means_md5() -> None:
    challenge = dataclasses.replace(server().challenges(now=T0)[1], algorithm=None)
    value = DigestClient("alice", "wonderland").authorize(
        challenge, method="REGISTER", uri="u", cnonce="c"
    )
    assert "algorithm" not in value
    assert verify(server(), value).status is AuthStatus.OK
    assert verify(server(algorithms=("SHA-256",)), value).status is AuthStatus.FAILED


# --- Rejections ---------------------------------------------------------------------------------


def answer(
    srv: DigestServer,
    *,
    user: str = "alice",
    password: str = "wonderland",
    at: float = T0,
    **kw: Any,
) -> str:
    challenge = dataclasses.replace(srv.challenges(now=at)[0], **kw)
    return DigestClient(user, password).authorize(
        challenge, method="REGISTER", uri="sip:r", cnonce="c"
    )


def test_stale_after_ttl_only_with_correct_response() -> None:
    srv = server(nonce_ttl=60.0)
    assert verify(srv, answer(srv), now=T0 + 60).status is AuthStatus.OK
    assert verify(srv, answer(srv), now=T0 + 61) == AuthResult(
        status=AuthStatus.STALE, username="alice"
    )
    assert verify(srv, answer(srv, password="nope"), now=T0 + 61).status is AuthStatus.FAILED
    assert verify(srv, answer(srv, user="mallory"), now=T0 + 61).status is AuthStatus.FAILED


def test_wrong_password_and_unknown_user_are_indistinguishable() -> None:
    calls: list[str] = []

    def password_for(name: str) -> str | None:
        calls.append(name)
        return USERS.get(name)

    def outcome(user: str, password: str) -> tuple[AuthResult, list[Challenge]]:
        srv = server()
        value = answer(srv, user=user, password=password)
        result = srv.verify(value, method="REGISTER", password_for=password_for, now=T0)
        return dataclasses.replace(result, username=None), srv.challenges(now=T0 + 1)

    wrong_password = outcome("alice", "guess")
    unknown_user = outcome("mallory", "guess")
    assert wrong_password == unknown_user
    assert wrong_password[0].status is AuthStatus.FAILED
    assert calls == ["alice", "mallory"]  # the lookup (and hashing) happens in both cases


def test_unknown_user_never_passes_even_with_the_dummy_password() -> None:
    srv = server()
    dummy = srv._dummy_password
    assert verify(srv, answer(srv, user="mallory", password=dummy)).status is AuthStatus.FAILED


def test_replayed_nonce_count_is_rejected_but_reordering_is_tolerated() -> None:
    srv = server()
    client = DigestClient("alice", "wonderland")
    challenge = srv.challenges(now=T0)[0]
    values = [
        client.authorize(challenge, method="REGISTER", uri="u", cnonce="c") for _ in range(70)
    ]
    assert verify(srv, values[0]).status is AuthStatus.OK
    assert verify(srv, values[0]).status is AuthStatus.FAILED
    assert verify(srv, values[3]).status is AuthStatus.OK
    assert verify(srv, values[2]).status is AuthStatus.OK  # arrived out of order
    assert verify(srv, values[3]).status is AuthStatus.FAILED
    assert verify(srv, values[69]).status is AuthStatus.OK  # shifts the window past 2 and 3
    assert verify(srv, values[1]).status is AuthStatus.FAILED  # too old for the window
    assert verify(srv, values[68]).status is AuthStatus.OK
    # The same nonce with another cnonce is an independent count.
    other = DigestClient("alice", "wonderland").authorize(
        challenge, method="REGISTER", uri="u", cnonce="d"
    )
    assert verify(srv, other).status is AuthStatus.OK


def test_a_large_jump_in_nonce_count_resets_the_window() -> None:
    srv = server()
    challenge = srv.challenges(now=T0)[0]
    client = DigestClient("alice", "wonderland")
    values = [
        client.authorize(challenge, method="REGISTER", uri="u", cnonce="c") for _ in range(200)
    ]
    assert verify(srv, values[0]).status is AuthStatus.OK
    assert verify(srv, values[199]).status is AuthStatus.OK
    assert verify(srv, values[199]).status is AuthStatus.FAILED
    assert verify(srv, values[198]).status is AuthStatus.OK


def test_two_clients_challenged_at_once_with_the_same_cnonce_both_pass() -> None:
    """Two SIPp processes challenged in the same loop turn send the same cnonce (unseeded
    rand()) and nc=1: with one nonce for both, the second looked like a replay (seen in CI)."""
    srv = server()
    first, second = srv.challenges(now=T0)[0], srv.challenges(now=T0)[0]
    for challenge in (first, second):
        value = DigestClient("alice", "wonderland").authorize(
            challenge, method="INVITE", uri="sip:8000@h", cnonce="6b8b4567"
        )
        assert verify(srv, value, method="INVITE").status is AuthStatus.OK


def test_replay_table_is_bounded_and_drops_expired_entries() -> None:
    srv = server(max_tracked=3, nonce_ttl=10.0)
    challenge = srv.challenges(now=T0)[0]
    for cnonce in "abcd":
        value = DigestClient("alice", "wonderland").authorize(
            challenge, method="REGISTER", uri="u", cnonce=cnonce
        )
        assert verify(srv, value).status is AuthStatus.OK
    assert len(srv._seen) == 3
    later = srv.challenges(now=T0 + 20)[0]
    value = DigestClient("alice", "wonderland").authorize(
        later, method="REGISTER", uri="u", cnonce="e"
    )
    assert verify(srv, value, now=T0 + 20).status is AuthStatus.OK
    assert len(srv._seen) == 1


def test_tampered_or_foreign_nonce_is_rejected() -> None:
    srv = server()
    nonce = srv.challenges(now=T0)[0].nonce
    raw = bytearray(base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4)))
    raw[0] ^= 1  # move the timestamp
    moved = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    other_secret = DigestServer(REALM, b"another secret").challenges(now=T0)[0].nonce
    other_realm = DigestServer("elsewhere", SECRET).challenges(now=T0)[0].nonce
    for bad in [
        moved,
        other_secret,
        other_realm,
        nonce + "A",
        nonce[:-1],
        "n\u00f6nce",
        "!!!!",
        "",
    ]:
        assert verify(srv, answer(srv, nonce=bad)) == AuthResult(
            status=AuthStatus.FAILED, username="alice"
        ), bad


def test_realm_opaque_qop_and_algorithm_mismatches_fail() -> None:
    srv = server()
    assert verify(srv, answer(srv, realm="elsewhere")).status is AuthStatus.FAILED
    assert verify(srv, answer(srv, opaque="forged")).status is AuthStatus.FAILED
    assert verify(srv, answer(srv, qop=("auth-int",))).status is AuthStatus.FAILED
    assert verify(srv, answer(srv, algorithm="MD5-sess")).status is AuthStatus.FAILED
    unknown = dataclasses.replace(parse_credentials(answer(srv)), algorithm="SHA-512-256")
    assert verify(srv, str(unknown)).status is AuthStatus.FAILED
    no_opaque = parse_credentials(answer(srv))
    value = str(dataclasses.replace(no_opaque, opaque=None))
    assert verify(srv, value).status is AuthStatus.OK


def test_malformed_credentials_give_malformed() -> None:
    srv = server()
    assert verify(srv, "Digest") == AuthResult(status=AuthStatus.MALFORMED, username=None)
    sess = server(algorithms=("MD5-sess",))
    creds = parse_credentials(answer(sess))
    value = str(dataclasses.replace(creds, qop=None, nc=None, cnonce=None))
    assert verify(sess, value) == AuthResult(status=AuthStatus.MALFORMED, username="alice")


def test_verify_credentials_lets_the_caller_check_the_uri_first() -> None:
    srv = server()
    creds = parse_credentials(answer(srv))
    assert creds.uri == "sip:r"
    result = srv.verify_credentials(creds, method="REGISTER", password_for=USERS.get, now=T0)
    assert result.status is AuthStatus.OK


def test_verify_credentials_checks_hand_built_credentials_too() -> None:
    srv = server()
    creds = parse_credentials(answer(srv))
    for broken in [
        dataclasses.replace(creds, nc=None),
        dataclasses.replace(creds, nc="1"),
        dataclasses.replace(creds, cnonce=None),
    ]:
        result = srv.verify_credentials(broken, method="REGISTER", password_for=USERS.get, now=T0)
        assert result == AuthResult(status=AuthStatus.MALFORMED, username="alice")


@given(st.text())
def test_verify_any_text_never_raises(value: str) -> None:
    assert verify(server(), value).status in {AuthStatus.MALFORMED, AuthStatus.FAILED}
