"""The client address of a request: X-Forwarded-For is believed only when it comes from a trusted proxy."""

import ipaddress
from typing import Any

from django.conf import settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: list[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: Any) -> str:
    """The address that made the request.

    Behind trusted proxies (TRUSTED_PROXIES), X-Forwarded-For is read from the right, skipping every
    hop that is itself a trusted proxy; the first other hop is the client. A client can prepend what it
    likes to the header, so nothing left of that hop is believed.
    """
    cached = getattr(request, "_innominatus_client_ip", None)
    if cached is not None:
        return str(cached)
    meta = getattr(request, "META", {})
    remote = _parse(meta.get("REMOTE_ADDR", "") or "")
    networks: list[IPNetwork] = settings.TRUSTED_PROXIES
    result = str(remote) if remote is not None else ""
    if remote is not None and networks and _trusted(remote, networks):
        hops = [hop for hop in (meta.get("HTTP_X_FORWARDED_FOR", "") or "").split(",") if hop.strip()]
        for hop in reversed(hops):
            address = _parse(hop)
            if address is None:
                break
            result = str(address)
            if not _trusted(address, networks):
                break
    request._innominatus_client_ip = result
    return result
