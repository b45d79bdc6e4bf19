"""Callback URLs: https only, the host resolved once, every address vetted (IPv4 and IPv6)."""

from __future__ import annotations

import pytest

from fakes.loops import run
from textapi_shared.security.outbound import UnsafeUrlError, VettedUrl, vet_url

REFUSED_ADDRESSES = {
    "https://127.0.0.1/hook": "is a loopback address",
    "https://127.1.2.3:8443/hook": "is a loopback address",
    "https://169.254.169.254/latest/meta-data/": "is a link-local address",
    "https://10.0.0.5/hook": "is a private address",
    "https://172.16.4.1/hook": "is a private address",
    "https://192.168.1.1/hook": "is a private address",
    "https://100.64.0.1/hook": "not publicly routable",  # carrier-grade NAT
    "https://0.0.0.0/hook": "is the unspecified address",
    "https://224.0.0.1/hook": "is a multicast address",
    "https://[::1]/hook": "is a loopback address",
    "https://[::]/hook": "is the unspecified address",
    "https://[fd00:ec2::254]/latest/meta-data/": "is a private address",  # the metadata service, IPv6
    "https://[fe80::1]/hook": "is a link-local address",
    "https://[ff02::1]/hook": "is a multicast address",
    "https://[::ffff:127.0.0.1]/hook": "embedding a loopback address",
    "https://[::ffff:169.254.169.254]/hook": "embedding a link-local address",
    "https://[::ffff:10.0.0.1]/hook": "embedding a private address",
    "https://[2002:a9fe:a9fe::1]/hook": "embedding a link-local address",  # 6to4
    "https://[64:ff9b::a9fe:a9fe]/hook": "embedding a link-local address",  # NAT64
}


def resolver(table: dict[str, list[str]]):
    """A DNS stand-in: these tests name hosts whose real answers nobody controls offline."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


@pytest.mark.parametrize("url", list(REFUSED_ADDRESSES))
def test_addresses_that_are_not_public_are_refused(url):
    with pytest.raises(UnsafeUrlError, match=REFUSED_ADDRESSES[url]):
        run(vet_url(url))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.test/hook", "only https"),
        ("ftp://example.test/hook", "only https"),
        ("https:///hook", "no host"),
        ("https://user:secret@example.test/hook", "credentials"),
        ("https://example.test:99999/hook", "not a valid URL"),
    ],
)
def test_urls_that_are_not_plain_https_are_refused(url, reason):
    with pytest.raises(UnsafeUrlError, match=reason):
        run(vet_url(url, resolve=resolver({"example.test": ["93.184.216.34"]})))


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("metadata.attacker.test", ["169.254.169.254"]),
        ("intranet.attacker.test", ["10.1.2.3"]),
        ("rebind.attacker.test", ["93.184.216.34", "10.0.0.1"]),  # one bad address is enough
        ("mapped.attacker.test", ["::ffff:127.0.0.1"]),
        ("v6-metadata.attacker.test", ["fd00:ec2::254"]),
    ],
)
def test_a_host_name_resolving_to_a_refused_address_is_refused(host, addresses):
    with pytest.raises(UnsafeUrlError, match=r"the host resolves to an? ") as refused:
        run(vet_url(f"https://{host}/hook", resolve=resolver({host: addresses})))
    assert not any(address in str(refused.value) for address in addresses)  # no internal address leaks


def test_localhost_resolves_to_loopback_through_the_system_resolver():
    with pytest.raises(UnsafeUrlError, match="resolves to a loopback address"):
        run(vet_url("https://localhost/hook"))


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(UnsafeUrlError, match="does not resolve"):
        run(vet_url("https://nowhere.test/hook", resolve=resolver({})))


def test_public_addresses_are_kept_for_the_connection_in_their_order():
    resolve = resolver({"hooks.example.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]})
    vetted = run(vet_url("https://hooks.example.test:8443/jobs/done?source=textapi", resolve=resolve))
    assert vetted == VettedUrl(
        "hooks.example.test",
        8443,
        "/jobs/done?source=textapi",
        ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"),
    )
    assert run(vet_url("https://93.184.216.34")).target == "/"


def test_allowing_loopback_allows_loopback_only():
    assert run(vet_url("https://127.0.0.1:9443/hook", allow_loopback=True)).addresses == ("127.0.0.1",)
    assert "127.0.0.1" in run(vet_url("https://localhost:9443/hook", allow_loopback=True)).addresses
    for url in ("https://169.254.169.254/", "https://10.0.0.1/", "https://[::ffff:169.254.169.254]/"):
        with pytest.raises(UnsafeUrlError):
            run(vet_url(url, allow_loopback=True))
