"""The webhook kit's pure parts: destination policy, signatures, secrets at rest, retries."""

from __future__ import annotations

import ipaddress
import json
import time

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from xborder_platform.webhooks.destinations import (
    DestinationPolicy,
    DestinationRefused,
    refusal_reason,
)
from xborder_platform.webhooks.poster import _read_at_most
from xborder_platform.webhooks.retries import retry_delay_s, schedule_span_s
from xborder_platform.webhooks.settings import STANDARD_RETRY_SCHEDULE_S, WebhookSettings
from xborder_platform.webhooks.signing import (
    SecretBox,
    SecretUnreadable,
    generate_secret,
    webhook_headers,
)

from .support import fake_resolver

# -- destinations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("100.127.255.254", "shared (CGNAT)"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("192.0.2.10", "private"),
        ("fec0::1", "site-local"),
        ("::ffff:127.0.0.1", "loopback (embedded in ::ffff:7f00:1)"),
        ("::ffff:10.0.0.1", "private (embedded in ::ffff:a00:1)"),
        ("2002:a00:1::1", "private (embedded in 2002:a00:1::1)"),
        ("64:ff9b::a9fe:a9fe", "link-local (embedded in 64:ff9b::a9fe:a9fe)"),
    ],
)
def test_non_global_addresses_are_refused(address: str, reason: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"])
def test_global_addresses_are_allowed(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("hooks.example.com/x", "https"),
        ("https:///x", "https"),
        ("https://10.0.0.1/x", "private"),
        ("https://[::1]:8443/x", "loopback"),
        ("https://[::ffff:192.168.0.1]/x", "private"),
        ("https://localhost/x", "loopback"),
        ("https://api.localhost/x", "loopback"),
        ("https://u:p@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com/x#frag", "fragment"),
        ("https://hooks.example.com:99999/x", "valid"),
        ("https://hooks.example.com/" + "a" * 2_100, "longer"),
    ],
)
def test_urls_refused_at_registration(url: str, says: str) -> None:
    with pytest.raises(DestinationRefused, match=says):
        DestinationPolicy().check_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/x?y=1", "https://8.8.8.8:8443/", "HTTPS://Hooks.Example.COM."],
)
def test_public_https_urls_pass_registration(url: str) -> None:
    DestinationPolicy().check_url(url)


def test_the_allow_list_admits_http_and_any_address() -> None:
    policy = DestinationPolicy(("hooks.internal", "10.0.0.7", "*.corp.example", "[::1]"))
    for url in (
        "http://hooks.internal/x",
        "http://HOOKS.internal./x",
        "http://10.0.0.7:8080/x",
        "https://a.b.corp.example/x",
        "http://[::1]/x",
    ):
        policy.check_url(url)
    for url in ("http://hooks.internal.evil.com/x", "http://corp.example.evil/x", "http://x/"):
        with pytest.raises(DestinationRefused):
            policy.check_url(url)


async def test_resolved_addresses_are_checked_at_send_time() -> None:
    policy = DestinationPolicy()
    resolver = fake_resolver(
        {
            "public.example": ["93.184.216.34"],
            "rebound.example": ["127.0.0.1"],
            "mixed.example": ["93.184.216.34", "10.0.0.7"],
            "v6.example": ["2606:4700:4700::1111"],
            "empty.example": [],
        }
    )
    target = await policy.target("https://public.example/hook?a=1", resolver=resolver)
    assert target.url == "https://93.184.216.34:443/hook?a=1"
    assert (target.host_header, target.sni_hostname) == ("public.example", "public.example")
    target = await policy.target("https://v6.example:8443/", resolver=resolver)
    assert target.url == "https://[2606:4700:4700::1111]:8443/"
    assert target.host_header == "v6.example:8443"
    with pytest.raises(DestinationRefused, match="loopback"):
        await policy.target("https://rebound.example/x", resolver=resolver)
    with pytest.raises(DestinationRefused, match="private"):
        await policy.target("https://mixed.example/x", resolver=resolver)
    for host in ("empty.example", "unknown.example"):
        with pytest.raises(DestinationRefused, match="does not resolve"):
            await policy.target(f"https://{host}/x", resolver=resolver)


async def test_allow_listed_names_skip_the_address_check_but_stay_pinned() -> None:
    policy = DestinationPolicy(("hooks.internal",))
    resolver = fake_resolver({"hooks.internal": ["10.0.0.7"]})
    target = await policy.target("http://hooks.internal:8080/x", resolver=resolver)
    assert target.url == "http://10.0.0.7:8080/x"
    assert (target.host_header, target.sni_hostname) == ("hooks.internal:8080", None)


# -- signatures and secrets ------------------------------------------------------------------


def test_signed_headers_verify_with_the_standard_library() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    data = {"type": "order.status_changed", "data": {"city": "Zürich"}}
    body = json.dumps(data, ensure_ascii=False)
    headers = webhook_headers(
        secrets=[secret], msg_id="msg_1", timestamp=int(time.time()), body=body
    )
    assert Webhook(secret).verify(body, headers)["data"] == {"city": "Zürich"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("Zürich", "Basel"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


def test_during_a_rotation_both_secrets_sign() -> None:
    new, old = generate_secret(), generate_secret()
    body = "{}"
    headers = webhook_headers(secrets=[new, old], msg_id="m", timestamp=int(time.time()), body=body)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    Webhook(new).verify(body, headers)
    Webhook(old).verify(body, headers)
    with pytest.raises(ValueError, match="secret"):
        webhook_headers(secrets=[], msg_id="m", timestamp=0, body=body)


def test_the_secret_box_encrypts_with_keys_and_reads_clear_text_without() -> None:
    secret = generate_secret()
    clear = SecretBox()
    stored = clear.seal(secret)
    assert not clear.encrypts
    assert clear.open(stored) == secret
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = SecretBox([old_key]).seal(secret)
    assert secret not in sealed
    rotated = SecretBox([new_key, old_key])
    assert rotated.encrypts
    assert rotated.open(sealed) == secret
    assert rotated.open(stored) == secret  # secrets stored before encryption still read
    with pytest.raises(SecretUnreadable):
        SecretBox([new_key]).open(sealed)
    with pytest.raises(SecretUnreadable):
        clear.open(sealed)
    with pytest.raises(SecretUnreadable):
        clear.open("whatever")


# -- retries and settings --------------------------------------------------------------------


def test_retry_waits_follow_the_schedule_scaled_and_repeat_the_last() -> None:
    schedule = (5.0, 300.0, 1_800.0)
    waits = [retry_delay_s(n, schedule_s=schedule, time_scale=0.5) for n in range(1, 6)]
    assert waits == [2.5, 150.0, 900.0, 900.0, 900.0]
    with pytest.raises(ValueError, match="from 1"):
        retry_delay_s(0, schedule_s=schedule)


def test_jitter_spreads_a_wait_within_its_bounds() -> None:
    def wait(rand: float) -> float:
        return retry_delay_s(2, schedule_s=(5.0, 100.0), jitter=0.2, rand=lambda: rand)

    assert wait(0.0) == pytest.approx(80.0)
    assert wait(0.5) == pytest.approx(100.0)
    assert wait(0.999999) == pytest.approx(120.0, rel=1e-5)


def test_the_default_schedule_is_standard_webhooks_and_spans_a_day() -> None:
    settings = WebhookSettings()
    assert settings.retry_schedule_s == STANDARD_RETRY_SCHEDULE_S
    assert schedule_span_s(settings.retry_schedule_s) >= 24 * 3600
    assert settings.disable_after_s == 5 * 86_400
    assert settings.max_response_bytes == 65_536
    assert settings.timeout_s == 10.0


@pytest.mark.parametrize(
    "values",
    [
        {"retry_schedule_s": ()},
        {"retry_schedule_s": (5, -1)},
        {"concurrency": 0},
        {"timeout_s": 0},
        {"time_scale": 0},
        {"jitter": 1.5},
        {"allow_list": ("https://hooks.internal/",)},
        {"allow_list": ("hooks.internal:8080",)},
        {"secret_keys": ("not-a-fernet-key",)},
        {"surprise": 1},
    ],
)
def test_settings_refuse_values_out_of_bounds(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        WebhookSettings(**values)  # type: ignore[arg-type]


def test_allow_list_entries_are_normalised() -> None:
    settings = WebhookSettings(allow_list=("Hooks.Internal.", "[::1]", "*.Corp.example"))
    assert settings.allow_list == ("hooks.internal", "::1", "*.corp.example")


# -- bounded answers ---------------------------------------------------------------------------


class EndlessBody(httpx.AsyncByteStream):
    """An answer body of `chunks` pieces of 10 000 bytes (None: without end), counting pulls."""

    def __init__(self, chunks: int | None = None) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self):  # type: ignore[override]
        while self.chunks is None or self.pulled < self.chunks:
            self.pulled += 1
            yield b"x" * 10_000


async def test_an_answer_is_read_only_up_to_the_cap() -> None:
    body = EndlessBody()
    read = await _read_at_most(httpx.Response(200, stream=body), 65_536)
    assert body.pulled == 7  # 70 000 bytes: the chunk that crossed 64 KB is the last one pulled
    assert read == 70_000


async def test_a_short_answer_is_read_whole_and_a_zero_cap_reads_nothing() -> None:
    short = EndlessBody(chunks=3)
    assert await _read_at_most(httpx.Response(200, stream=short), 65_536) == 30_000
    unread = EndlessBody()
    assert await _read_at_most(httpx.Response(200, stream=unread), 0) == 0
    assert unread.pulled == 0
