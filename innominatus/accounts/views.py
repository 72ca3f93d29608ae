"""The login page (portal and admin) and logout."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.views.decorators.debug import sensitive_post_parameters

from innominatus.accounts import oidc
from innominatus.accounts.forms import LoginForm


class LoginView(auth_views.LoginView):
    """Username and password for local accounts, and the single sign-on button when OIDC is on."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc.enabled()
        context["oidc_provider_name"] = oidc.provider_name()
        context["sso_failed"] = self.request.GET.get("error") == "sso"
        return context


login_view = sensitive_post_parameters("password")(LoginView.as_view())
logout_view = auth_views.LogoutView.as_view()
