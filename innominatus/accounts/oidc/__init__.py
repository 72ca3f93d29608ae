"""OpenID Connect sign-in: discovery, token verification, claims → user, and the code-flow views."""

from innominatus.accounts.oidc.discovery import enabled, issuer, provider_name
from innominatus.accounts.oidc.tokens import TokenRejected, user_for_bearer_token

__all__ = ["TokenRejected", "enabled", "issuer", "provider_name", "user_for_bearer_token"]
