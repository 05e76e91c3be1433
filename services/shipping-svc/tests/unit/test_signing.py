"""HMAC signatures of carrier webhooks."""

from shipping_svc.domain.signing import sign, verify

SECRET = b"a-carrier-secret-of-some-length"
BODY = b'{"event_id":"1"}'


def test_a_signature_verifies_within_the_tolerance_only():
    header = sign(SECRET, BODY, timestamp=1_000)
    assert verify((SECRET,), BODY, header, now=1_100, tolerance_s=300)
    assert not verify((SECRET,), BODY, header, now=1_400, tolerance_s=300)


def test_a_signature_binds_the_body_and_the_secret():
    header = sign(SECRET, BODY, timestamp=1_000)
    assert not verify((SECRET,), BODY + b" ", header, now=1_000, tolerance_s=300)
    assert not verify((b"other",), BODY, header, now=1_000, tolerance_s=300)
    assert verify((b"other", SECRET), BODY, header, now=1_000, tolerance_s=300)


def test_malformed_headers_are_refused():
    for header in (None, "", "v1=abc", "t=1000", "t=x,v1=abc", "garbage"):
        assert not verify((SECRET,), BODY, header, now=1_000, tolerance_s=300)
