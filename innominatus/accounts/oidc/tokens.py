"""Verifying provider-signed JWTs against the cached JWKS, and turning bearer tokens into users."""

import hashlib
import json
import logging
import time
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from innominatus.accounts.oidc import discovery
from innominatus.accounts.oidc.claims import ClaimsError, sync_user_from_claims

logger = logging.getLogger(__name__)

# Verified bearer tokens are remembered until they expire, but never longer than this.
MAX_TOKEN_CACHE_SECONDS = 3600
LEEWAY_SECONDS = 30


class TokenRejected(Exception):
    """A token that is malformed, expired, from another issuer, for another audience or badly signed."""


def _candidate_keys(header: dict[str, Any], keys: list[dict[str, Any]]) -> list[jwt.PyJWK]:
    """Keys that may have signed a token with this header (all RSA/EC signing keys when it has no kid)."""
    alg = header.get("alg")
    found = []
    for data in keys:
        if header.get("kid") is not None and data.get("kid") != header.get("kid"):
            continue
        if data.get("use", "sig") != "sig" or data.get("alg", alg) != alg:
            continue
        try:
            found.append(jwt.PyJWK(data, algorithm=alg))
        except jwt.PyJWTError:
            continue
    return found


def verify_jwt(token: str, *, audiences: list[str], nonce: str | None = None) -> dict[str, Any]:
    """The verified claims of a JWT signed by the configured issuer; TokenRejected otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenRejected(f"malformed token: {exc}") from None
    alg = header.get("alg")
    if alg not in settings.OIDC_SIGN_ALGORITHMS:
        raise TokenRejected(f"algorithm {alg!r} is not accepted")
    try:
        for refresh in (False, True):
            for key in _candidate_keys(header, discovery.jwks(refresh=refresh)):
                try:
                    claims = jwt.decode(
                        token,
                        key,
                        algorithms=[alg],
                        audience=audiences,
                        issuer=discovery.issuer(),
                        leeway=LEEWAY_SECONDS,
                        options={"require": ["exp", "iat", "iss", "sub"]},
                    )
                except jwt.InvalidSignatureError:
                    continue
                except jwt.PyJWTError as exc:
                    raise TokenRejected(str(exc)) from None
                if nonce is not None and claims.get("nonce") != nonce:
                    raise TokenRejected("nonce mismatch")
                return dict(claims)
    except discovery.DiscoveryError as exc:
        raise TokenRejected(f"cannot verify: {exc}") from None
    raise TokenRejected("signature verification failed")


def _userinfo(token: str) -> dict[str, Any]:
    try:
        response = requests.get(
            discovery.endpoint("userinfo_endpoint"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=settings.OIDC_TIMEOUT,
            verify=settings.OIDC_VERIFY_SSL,
        )
    except (requests.RequestException, discovery.DiscoveryError) as exc:
        raise TokenRejected(f"userinfo unavailable: {exc}") from None
    if response.status_code != 200:
        raise TokenRejected(f"userinfo answered {response.status_code}")
    try:
        claims = response.json()
    except json.JSONDecodeError:
        raise TokenRejected("userinfo did not answer JSON") from None
    if not isinstance(claims, dict) or not claims.get("sub"):
        raise TokenRejected("userinfo has no subject")
    return claims


def user_for_bearer_token(token: str) -> Any:
    """The active user a provider token stands for, verified locally and cached until it expires.

    JWTs are checked against the cached JWKS (issuer, audience OIDC_AUDIENCES, expiry, signature).
    Opaque tokens are accepted only with OIDC_ACCEPT_OPAQUE_TOKENS, through the userinfo endpoint,
    and remembered for OIDC_USERINFO_CACHE_SECONDS.
    """
    key = "oidc:bearer:" + hashlib.sha256(token.encode("utf-8")).hexdigest()
    user_model = get_user_model()
    cached = cache.get(key)
    if cached is not None:
        user = user_model.objects.filter(pk=cached, is_active=True).first()
        if user is None:
            raise TokenRejected("the token's user is inactive")
        return user
    now = time.time()
    if token.count(".") == 2:
        claims = verify_jwt(token, audiences=settings.OIDC_AUDIENCES)
        ttl = min(int(claims["exp"] - now), MAX_TOKEN_CACHE_SECONDS)
    elif settings.OIDC_ACCEPT_OPAQUE_TOKENS:
        claims = _userinfo(token)
        ttl = settings.OIDC_USERINFO_CACHE_SECONDS
    else:
        raise TokenRejected("not a JWT and opaque tokens are not accepted")
    try:
        user = sync_user_from_claims(discovery.issuer(), claims)
    except ClaimsError as exc:
        raise TokenRejected(str(exc)) from None
    if not user.is_active:
        raise TokenRejected("the token's user is inactive")
    if ttl > 0:
        cache.set(key, user.pk, timeout=ttl)
    return user
