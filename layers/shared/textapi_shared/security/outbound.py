"""Vetting of URLs a user names for the service to call (job callbacks): server-side request forgery.

`vet_url` accepts only `https://` URLs, resolves the host once and refuses it unless every address
is publicly routable: loopback, private, link-local (the instance metadata service at
169.254.169.254), `fd00:ec2::254`, unique-local, CGNAT, multicast, unspecified and reserved ranges
are refused, in IPv4 and IPv6, including IPv4 embedded in IPv6 (v4-mapped, 6to4, Teredo, NAT64).
The caller then connects to the vetted addresses only (`pinned_https`), never resolving again.
Loopback is allowed only when the caller says so (a local test receiver).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrlError(ValueError):
    """A URL this service will not call; the message says why (without any address it resolved to), for
    the log: telling the caller would make the check an oracle of the network's names."""


def url_hash(url: str) -> str:
    """A short hash that names a URL in a log line, where the URL itself (its query may carry a token)
    must not appear."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class VettedUrl(NamedTuple):
    host: str  # the name (or literal address) the URL gave: SNI, certificate and Host header
    port: int
    target: str  # path and query
    addresses: tuple[str, ...]  # every address `host` resolved to, each vetted


def address_refusal(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """What kind of address `ip` is when it may not be called (None when it may)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        for inner in (address for address in embedded if address is not None):
            reason = address_refusal(inner, allow_loopback=allow_loopback)
            if reason is not None:
                return f"an IPv6 address embedding {reason}"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    checks = (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_link_local, "a link-local address (such as the instance metadata service's)"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "an address that is not publicly routable"),
    )
    return next((reason for refused, reason in checks if refused), None)


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def vet_url(
    url: str,
    *,
    allow_loopback: bool = False,
    resolve: Callable[[str, int], Awaitable[list[str]]] = resolve_host,
) -> VettedUrl:
    """The URL's host resolved once and every address checked; `UnsafeUrlError` otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError as exc:
        raise UnsafeUrlError("not a valid URL") from exc
    if parts.scheme.lower() != "https":
        raise UnsafeUrlError("only https URLs are called")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError("credentials in the URL are not accepted")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrlError("the URL has no host")
    try:
        addresses, verb = [str(ipaddress.ip_address(host))], "is"
    except ValueError:
        try:
            addresses, verb = await resolve(host, port), "resolves to"
        except OSError as exc:
            raise UnsafeUrlError("the host name does not resolve") from exc
    if not addresses:
        raise UnsafeUrlError("the host name does not resolve")
    for address in addresses:
        reason = address_refusal(
            ipaddress.ip_address(address.split("%", 1)[0]), allow_loopback=allow_loopback
        )
        if reason is not None:  # the address stays out of the message: it may be an internal one
            raise UnsafeUrlError(f"the host {verb} {reason}; only public addresses are called")
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return VettedUrl(host, port, target, tuple(addresses))
