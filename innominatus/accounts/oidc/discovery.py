"""The provider's discovery document and signing keys, fetched lazily and cached (process + shared cache)."""

import hashlib
import logging
import threading
import time
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# A token signed by an unknown key triggers a JWKS refresh at most this often (key rotation).
JWKS_REFRESH_INTERVAL = 60.0

_lock = threading.RLock()
_memo: dict[str, tuple[float, Any]] = {}


class DiscoveryError(Exception):
    """The provider's metadata or keys could not be fetched or are inconsistent."""


def enabled() -> bool:
    """Whether OIDC sign-in is switched on (OIDC_ENABLED)."""
    return bool(settings.OIDC_ENABLED)


def issuer() -> str:
    """The configured issuer, without a trailing slash."""
    return str(settings.OIDC_ISSUER).rstrip("/")


def provider_name() -> str:
    """What the login button calls the provider."""
    return str(settings.OIDC_PROVIDER_NAME)


def _cache_key(kind: str) -> str:
    return f"oidc:{kind}:{hashlib.sha256(issuer().encode()).hexdigest()[:16]}"


def _fetch_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, verify=settings.OIDC_VERIFY_SSL)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise DiscoveryError(f"cannot fetch {url}: {exc}") from exc
    if not isinstance(document, dict):
        raise DiscoveryError(f"{url} did not return a JSON object")
    return document


def _cached(kind: str, load: Any, *, force: bool = False) -> Any:
    """Process memo in front of the shared cache in front of the network."""
    key = _cache_key(kind)
    now = time.monotonic()
    if not force:
        hit = _memo.get(key)
        if hit and hit[0] > now:
            return hit[1]
        shared = cache.get(key)
        if shared is not None:
            _memo[key] = (now + settings.OIDC_DISCOVERY_CACHE_SECONDS, shared)
            return shared
    with _lock:
        value = load()
        cache.set(key, value, timeout=settings.OIDC_DISCOVERY_CACHE_SECONDS)
        _memo[key] = (time.monotonic() + settings.OIDC_DISCOVERY_CACHE_SECONDS, value)
        return value


def _load_metadata() -> dict[str, Any]:
    document = _fetch_json(f"{issuer()}/.well-known/openid-configuration")
    if str(document.get("issuer", "")).rstrip("/") != issuer():
        raise DiscoveryError(
            f"the discovery document names issuer {document.get('issuer')!r}, expected {issuer()!r}"
        )
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(name), str):
            raise DiscoveryError(f"the discovery document has no {name}")
    return document


def metadata() -> dict[str, Any]:
    """The provider's `/.well-known/openid-configuration`, fetched on first use."""
    return dict(_cached("metadata", _load_metadata))


def endpoint(name: str) -> str:
    """One endpoint URL from the discovery document (e.g. `token_endpoint`)."""
    value = metadata().get(name)
    if not isinstance(value, str):
        raise DiscoveryError(f"the provider does not advertise {name}")
    return value


def _load_jwks() -> dict[str, Any]:
    document = _fetch_json(endpoint("jwks_uri"))
    if not isinstance(document.get("keys"), list):
        raise DiscoveryError("the JWKS document has no keys")
    return {"keys": document["keys"], "fetched_at": time.time()}


def jwks(*, refresh: bool = False) -> list[dict[str, Any]]:
    """The provider's public keys; `refresh` refetches them unless that happened within a minute."""
    current = _cached("jwks", _load_jwks)
    if refresh and time.time() - float(current.get("fetched_at", 0)) > JWKS_REFRESH_INTERVAL:
        logger.info("refreshing the OIDC provider's signing keys")
        current = _cached("jwks", _load_jwks, force=True)
    return list(current["keys"])


def forget() -> None:
    """Drop cached metadata and keys (tests, issuer changes)."""
    with _lock:
        for kind in ("metadata", "jwks"):
            key = _cache_key(kind)
            _memo.pop(key, None)
            cache.delete(key)
