"""Where a webhook may point: https (http only when WEBHOOK_ALLOW_HTTP), no credentials in the
URL, and — unless WEBHOOK_ALLOW_PRIVATE_NETWORKS — a host that resolves only to public
addresses: never loopback, private, link-local (169.254.169.254, the cloud metadata service),
multicast, reserved or unspecified. Link-local addresses stay refused even then: that setting is
for a receiver on this machine or network, never the cloud metadata service. The check runs at
creation and again at each delivery, and the delivery connects to the address that was checked
(no DNS rebinding in between)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.settings import Settings

MAX_URL_CHARS = 2048


class TargetRefused(ValueError):
    """The URL may not be called; the message says why, for the owner."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    address: str  # the checked IP the delivery connects to


def check_url(url: str, settings: Settings) -> tuple[str, str, int]:
    if len(url) > MAX_URL_CHARS:
        raise TargetRefused(f"The URL is longer than {MAX_URL_CHARS} characters")
    parts = urlsplit(url)
    allowed = ("https", "http") if settings.webhook_allow_http else ("https",)
    if parts.scheme not in allowed:
        raise TargetRefused(f"The URL must start with {' or '.join(s + '://' for s in allowed)}")
    if parts.username or parts.password:
        raise TargetRefused("The URL must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The URL's port is not valid") from None
    if not parts.hostname:
        raise TargetRefused("The URL has no host")
    return parts.scheme, parts.hostname, port


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _forbidden(address: str) -> bool:
    ip = _ip(address)
    return not ip.is_global or ip.is_multicast


def resolve(url: str, settings: Settings) -> Target:
    """The address to connect to, or TargetRefused. Blocking (DNS): call it off the loop."""
    scheme, host, port = check_url(url, settings)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"The host {host} does not resolve ({exc.strerror})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    metadata = [a for a in addresses if _ip(a).is_link_local]
    if metadata:
        raise TargetRefused(
            f"The host {host} resolves to a link-local address ({metadata[0]}), which is never "
            "called"
        )
    if not settings.webhook_allow_private_networks:
        refused = [a for a in addresses if _forbidden(a)]
        if refused:
            raise TargetRefused(
                f"The host {host} resolves to a private or reserved address ({refused[0]})"
            )
    return Target(url, scheme, host, port, addresses[0])
