"""SSRF guard for steps that call URLs: resolve the host and refuse non-public addresses not allow-listed."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult

from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedDestination(Exception):
    """The URL points somewhere the SSRF guard refuses to connect to."""


@dataclass(frozen=True)
class AllowList:
    """Host names (`*.example.com` matches sub-domains), addresses and CIDRs that may be private."""

    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        hosts: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = str(raw).strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("*."):
                suffixes.append(entry[1:])
            else:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(suffixes), tuple(networks))

    def allows_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.hosts or any(host.endswith(suffix) for suffix in self.suffixes)

    def allows_ip(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


def is_public(ip: IPAddress) -> bool:
    """Whether an address is globally routable, looking through IPv4-mapped/6to4/Teredo wrappers."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public(embedded):
            return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_destination(parts: SplitResult, allowlist: AllowList) -> list[IPAddress]:
    """Resolve the URL's host and return its addresses; BlockedDestination when any is refused."""
    if parts.scheme not in ("http", "https"):
        raise BlockedDestination(f"scheme {parts.scheme!r} is not allowed (use http or https)")
    host = parts.hostname
    if not host:
        raise BlockedDestination("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedDestination(f"invalid port: {exc}") from exc
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise BlockedDestination(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
    if not addresses:
        raise BlockedDestination(f"{host} has no addresses")
    if allowlist.allows_host(host):
        return addresses
    refused = [ip for ip in addresses if not is_public(ip) and not allowlist.allows_ip(ip)]
    if refused:
        raise BlockedDestination(
            f"refusing to connect to {host}: {', '.join(map(str, refused))} is not a public address "
            "(add the host or network to HTTP_STEP_ALLOWLIST to allow it)"
        )
    return addresses


def settings_allowlist() -> list[str]:
    """The HTTP_STEP_ALLOWLIST setting, read when a step runs; empty when Django is not configured."""
    from django.conf import settings

    try:
        return list(getattr(settings, "HTTP_STEP_ALLOWLIST", []) or [])
    except ImproperlyConfigured:
        return []
