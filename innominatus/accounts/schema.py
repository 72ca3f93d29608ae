"""OpenAPI security schemes for our authentication classes (drf-spectacular extensions)."""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer <API key or OIDC token>`."""

    target_class = "innominatus.accounts.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (`inn_…`) or a token from the OIDC provider.",
        }


class SessionCookieScheme(OpenApiAuthenticationExtension):
    """The session cookie set by /api/login, the login page or single sign-on (CSRF token on writes)."""

    target_class = "innominatus.accounts.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
