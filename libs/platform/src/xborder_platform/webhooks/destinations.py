"""Where a webhook may be sent: https to a global address, unless the host is allow-listed.

The checks run twice: on the URL when an endpoint is registered (scheme, credentials, a literal
address), and on the resolved addresses at every send, because a name can be pointed at an
internal address after registration (DNS rebinding). The sender then connects to the very
address it checked (the URL's host goes in the Host header and TLS SNI), so a second lookup
cannot send it elsewhere.

Refused everywhere but on the allow-list: loopback, private (RFC 1918, unique local),
link-local (cloud metadata), shared/CGNAT (100.64.0.0/10), multicast, unspecified, reserved and
documentation ranges (anything Python does not call global), with IPv4 addresses embedded in
IPv6 ones (mapped, 6to4, Teredo, NAT64) checked as the IPv4 address they carry.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Looks up a host name: (host, port) -> its addresses as text.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

MAX_URL_LENGTH = 2_048
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class DestinationRefused(ValueError):
    """A webhook URL or address that may not be used; the text says why."""


def normalize_host(host: str) -> str:
    """A host as compared with the allow-list: lower case, no trailing dot, no brackets."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def refusal_reason(address: IPAddress) -> str | None:
    """Why `address` may not receive webhooks (e.g. 'loopback'), or None when it is global."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = refusal_reason(embedded)
            if reason is not None:
                return f"{reason} (embedded in {address})"
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in _SHARED, "shared (CGNAT)"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "site-local"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """Where one delivery goes: the URL to request (at the checked address) and its headers."""

    url: str
    host_header: str
    #: The name TLS must present a certificate for (None for plain http).
    sni_hostname: str | None
    address: str


@dataclass(frozen=True)
class DestinationPolicy:
    """The destination rules; `allow_list` holds hosts exempt from them (see WebhookSettings)."""

    allow_list: Collection[str] = ()

    def allows_any_address(self, host: str) -> bool:
        """True when `host` is on the allow-list (exactly, or under a '*.' entry)."""
        host = normalize_host(host)
        for entry in self.allow_list:
            entry = normalize_host(entry)
            if host == entry or (entry.startswith("*.") and host.endswith(entry[1:])):
                return True
        return False

    def check_url(self, url: str) -> SplitResult:
        """Refuse a URL that can never be a destination; return it split. No I/O."""
        if len(url) > MAX_URL_LENGTH:
            raise DestinationRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise DestinationRefused(f"not a valid URL: {exc}") from None
        host = normalize_host(parts.hostname or "")
        if parts.scheme not in _DEFAULT_PORTS or not host:
            raise DestinationRefused("the URL must be an absolute https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise DestinationRefused("the URL must not carry credentials")
        if parts.fragment:
            raise DestinationRefused("the URL must not have a #fragment")
        if port == 0:
            raise DestinationRefused("the URL's port must not be 0")
        if self.allows_any_address(host):
            return parts
        if parts.scheme != "https":
            raise DestinationRefused("the URL must use https")
        if host == "localhost" or host.endswith(".localhost"):
            raise DestinationRefused(f"{host} is a loopback name")
        address = _ip_or_none(host)
        if address is not None and (reason := refusal_reason(address)) is not None:
            raise DestinationRefused(f"{host} is a {reason} address")
        return parts

    async def target(self, url: str, *, resolver: Resolver) -> Target:
        """Check `url` and its resolved addresses; the Target to send to. DestinationRefused
        when the URL or any address it resolves to is refused, or when it does not resolve."""
        parts = self.check_url(url)
        host = normalize_host(parts.hostname or "")
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        literal = _ip_or_none(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                found = await resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise DestinationRefused(f"{host} does not resolve: {exc}") from None
            addresses = [a for a in (_ip_or_none(normalize_host(t)) for t in found) if a]
            if not addresses:
                raise DestinationRefused(f"{host} does not resolve")
        if not self.allows_any_address(host):
            for address in addresses:
                if (reason := refusal_reason(address)) is not None:
                    raise DestinationRefused(f"{host} resolves to a {reason} address ({address})")
        return _pinned(parts, host=host, port=port, address=addresses[0])


def _ip_or_none(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _pinned(parts: SplitResult, *, host: str, port: int, address: IPAddress) -> Target:
    """The URL with the checked address in place of the name, so nothing resolves it again."""
    literal = f"[{address}]" if address.version == 6 else str(address)
    shown_host = f"[{host}]" if ":" in host else host
    default = port == _DEFAULT_PORTS[parts.scheme]
    url = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    return Target(
        url=url,
        host_header=shown_host if default else f"{shown_host}:{port}",
        sni_hostname=host if parts.scheme == "https" and _ip_or_none(host) is None else None,
        address=str(address),
    )


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve `host` with the operating system's resolver (getaddrinfo, off the loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
