"""Accounts API routes (mounted under /api/)."""

from django.urls import path

from innominatus.accounts.api import token, views

urlpatterns = [
    path("auth/config", views.AuthConfigView.as_view(), name="api-auth-config"),
    path("auth/token", token.TokenView.as_view(), name="api-auth-token"),
    path("login", views.LoginView.as_view(), name="api-login"),
    path("logout", views.LogoutView.as_view(), name="api-logout"),
    path("profile", views.ProfileView.as_view(), name="api-profile"),
    path("profile/api-keys", views.ProfileApiKeysView.as_view(), name="api-profile-api-keys"),
    path(
        "profile/api-keys/<str:name>",
        views.ProfileApiKeyDetailView.as_view(),
        name="api-profile-api-key-detail",
    ),
    path("admin/users", views.AdminUserListView.as_view(), name="api-admin-users"),
    path(
        "admin/users/<str:username>/api-keys",
        views.AdminUserApiKeysView.as_view(),
        name="api-admin-user-api-keys",
    ),
    path(
        "admin/users/<str:username>/api-keys/<str:name>",
        views.AdminUserApiKeyDetailView.as_view(),
        name="api-admin-user-api-key-detail",
    ),
    path("audit", views.AuditEventListView.as_view(), name="api-audit-events"),
]
