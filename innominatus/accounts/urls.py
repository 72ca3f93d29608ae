"""Sign-in routes outside the API: the login page, logout and the OIDC code flow."""

from django.urls import path

from innominatus.accounts.oidc.views import OIDCCallbackView, OIDCLoginView
from innominatus.accounts.views import login_view, logout_view

urlpatterns = [
    path("login", login_view, name="login"),
    path("logout", logout_view, name="logout"),
    path("auth/oidc/login", OIDCLoginView.as_view(), name="oidc_authentication_init"),
    path("auth/oidc/callback", OIDCCallbackView.as_view(), name="oidc_authentication_callback"),
    path("auth/callback", OIDCCallbackView.as_view(), name="oidc_callback_alias"),
]
