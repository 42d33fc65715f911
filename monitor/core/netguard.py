"""Refuse URLs that point into the machine's own network (SSRF guard).

Sources come from a settings file and, through redirects, from remote servers. Without this
check a feed URL (or a redirect from a public feed) could make Vigía fetch
`http://169.254.169.254/` (cloud credentials), `http://localhost:8080/admin` or a router's
page and show the answer in a digest. Every hop of every request is checked here, and every
address a name resolves to must be public: one private answer is enough to refuse.
`[http] allow_private_addresses = true` switches the check off for deployments that watch
intranet feeds on purpose.

DNS rebinding (a name that resolves to a public address when checked and to a private one a
moment later, when the HTTP library connects) is closed by `GuardedBackend`: the connection
itself resolves the name once, vets every address and connects to a vetted one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore

from monitor.core.errors import RetryLater, SourceMisconfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

ALLOWED_SCHEMES = ("http", "https")
SETTING = "[http] allow_private_addresses"


def redact_url(url: str) -> str:
    """scheme://host[:port]/path: what may appear in logs and error messages.

    Query strings and user:password@ often carry tokens; fragments are noise.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else parts.path


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_forbidden_address(address: IPAddress) -> bool:
    """True for anything that is not a plain public unicast address.

    `is_global` already excludes private, loopback, link-local, shared (100.64/10),
    documentation and reserved ranges; the explicit checks cover the ranges that Python
    calls global but that no public feed lives on (multicast), and IPv6 forms that embed an
    IPv4 address (::ffff:10.0.0.1, 6to4, NAT64 well-known prefix).
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and is_forbidden_address(embedded):
            return True
        if address.teredo is not None:
            return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def check_url(
    url: str,
    *,
    allow_private: bool,
    resolve: Resolver = resolve_host,
    trusted: Sequence[IPNetwork] = (),
) -> None:
    """Raise SourceMisconfigured unless `url` is http(s) to a public host (or allowed).

    `trusted` networks are always accepted (tests use it to reach their own 127.0.0.1 server
    while every other private address stays refused).
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise SourceMisconfigured(f"invalid URL {shown}: {exc} — check the source's url") from None
    if parts.scheme not in ALLOWED_SCHEMES:
        raise SourceMisconfigured(
            f"refusing {parts.scheme or 'scheme-less'} URL {shown} — only http:// and https:// "
            "URLs can be fetched"
        )
    if not host:
        raise SourceMisconfigured(f"URL {shown} has no host — write it as https://host/path")
    if allow_private:
        return
    vetted_addresses(host, port, resolve=resolve, trusted=trusted, shown=shown)


def vetted_addresses(
    host: str,
    port: int,
    *,
    resolve: Resolver = resolve_host,
    trusted: Sequence[IPNetwork] = (),
    shown: str | None = None,
) -> list[IPAddress]:
    """Every address `host` resolves to, all checked public (or trusted); else an error."""
    shown = shown or host
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError) as exc:
            raise RetryLater(
                f"cannot resolve host {host!r} ({shown}): {exc}", transient=True
            ) from None
        if not addresses:
            raise RetryLater(f"host {host!r} resolved to no address ({shown})", transient=True)
    for address in addresses:
        if any(address in network for network in trusted):
            continue
        if is_forbidden_address(address):
            via = "" if literal is not None else f" (resolves to {address})"
            raise SourceMisconfigured(
                f"refusing to fetch {shown}: host {host}{via} is a private, loopback or "
                f"otherwise non-public address — set {SETTING} = true in settings.toml if "
                "this source is meant to be on your own network"
            )
    return addresses


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses vetted at connect time.

    The HTTP library would otherwise resolve the name again after `check_url` did, which a
    rebinding DNS server can answer differently. TLS still verifies (and sends SNI for) the
    host name: httpcore passes the origin's name to the TLS layer, not the address.
    """

    def __init__(self, resolve: Resolver = resolve_host, trusted: Sequence[IPNetwork] = ()):
        self._resolve = resolve
        self._trusted = trusted

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        address = vetted_addresses(host, port, resolve=self._resolve, trusted=self._trusted)[0]
        return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
