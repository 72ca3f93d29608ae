"""Permission strings, role configuration from admin-config.yaml, and who counts as platform admin."""

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from innominatus.accounts import config, rbac
from innominatus.accounts.access import is_platform_admin, visible_teams
from innominatus.accounts.config import DEFAULT_ROLES, parse


@pytest.mark.parametrize(
    ("granted", "needed", "ok"),
    [
        ({"*"}, "admin:write", True),
        ({"workflows:*"}, "workflows:write", True),
        ({"workflows:*"}, "specs:read", False),
        ({"*:read"}, "specs:read", True),
        ({"*:read"}, "specs:create", False),
        ({"*:read"}, "audit:read", False),
        ({"*:read"}, "admin:read", False),
        ({"admin:*"}, "admin:read", True),
        ({"audit:read"}, "audit:read", True),
        (set(), "profile:read", False),
    ],
)
def test_grants(granted: set[str], needed: str, ok: bool) -> None:
    assert rbac.grants(granted, needed) is ok


def test_default_roles_follow_the_configuration_guide() -> None:
    developer, viewer = DEFAULT_ROLES["developer"], DEFAULT_ROLES["viewer"]
    assert rbac.grants(developer, "workflows:write") and rbac.grants(developer, "specs:delete")
    assert rbac.grants(developer, "goldenpaths:execute") and not rbac.grants(developer, "admin:read")
    assert not rbac.grants(developer, "providers:write")
    assert rbac.grants(viewer, "workflows:read") and not rbac.grants(viewer, "workflows:write")
    assert not rbac.grants(viewer, "audit:read")
    assert rbac.grants(DEFAULT_ROLES["platform-admin"], "audit:read")


def test_rbac_section_in_the_guides_list_form_overrides_defaults() -> None:
    parsed = parse(
        {
            "admin": {"defaultRuntime": "kubernetes"},
            "rbac": {
                "defaultRole": "",
                "roles": [
                    {"name": "developer", "permissions": ["workflows:read", "specs:create", "specs:read"]},
                    {"name": "auditor", "permissions": ["audit:read"]},
                ],
            },
        }
    )
    assert parsed.roles["developer"] == {"workflows:read", "specs:create", "specs:read"}
    assert parsed.roles["auditor"] == {"audit:read"}
    assert parsed.roles["viewer"] == DEFAULT_ROLES["viewer"]
    assert parsed.default_role == ""


@pytest.mark.parametrize(
    "document",
    [
        {"rbac": {"roles": "everything"}},
        {"rbac": {"roles": [{"permissions": ["x:y"]}]}},
        {"rbac": {"roles": {"dev": ["not-a-permission"]}}},
        {"rbac": {"defaultRole": "nobody"}},
        {"oidc": {"roleMapping": {"admins": "nobody"}}},
        {"oidc": {"createTeams": "yes"}},
        {"oidc": {"createTeams": True}},
        {"oidc": {"teamPrefix": 3}},
        {"oidc": {"teamMapping": {"devs": "Not A Slug"}}},
        ["not", "a", "mapping"],
    ],
)
def test_malformed_configuration_fails_loudly(document: Any) -> None:
    with pytest.raises(ImproperlyConfigured):
        parse(document)


@pytest.mark.django_db
def test_configured_roles_apply_to_users(make_user: Any, admin_config: Any) -> None:
    admin_config("rbac:\n  roles:\n    - name: developer\n      permissions: [workflows:read]\n")
    dev = make_user("d1", role="developer")
    assert rbac.has_permission(dev, "workflows:read")
    assert not rbac.has_permission(dev, "specs:create")
    config.reload()


@pytest.mark.django_db
def test_user_without_role_gets_the_default_role(make_user: Any) -> None:
    user = make_user("plain", role=None)
    assert rbac.role_names(user) == ["viewer"]
    assert rbac.has_permission(user, "specs:read") and not rbac.has_permission(user, "specs:create")


@pytest.mark.django_db
def test_platform_admins_are_group_members_and_superusers(make_user: Any) -> None:
    admin = make_user("pa", team=None, role="platform-admin")
    root = make_user("root", team=None, superuser=True)
    dev = make_user("dev1", team="team-a")
    make_user("dev2", team="team-b")
    assert is_platform_admin(admin) and is_platform_admin(root) and not is_platform_admin(dev)
    assert {t.name for t in visible_teams(admin)} == {"team-a", "team-b"}
    assert {t.name for t in visible_teams(dev)} == {"team-a"}
