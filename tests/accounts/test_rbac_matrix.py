"""Every API route × role × own/other team answers as the permission map says.

The routes are read from the URL resolver, so an endpoint added later is checked automatically: it
fails here until it has a permission decision (a `required_permissions` attribute on the view or an
entry in innominatus.accounts.rbac.ROUTE_PERMISSIONS) and, when its URL has parameters, a value for
them in `_param_value` below.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from innominatus.accounts import rbac, services
from innominatus.accounts.config import access_config
from tests.workflows.api.factories import make_application, make_execution, make_resource, make_step
from workflows.models.deployment import ManifestSet

ROLES = ("platform-admin", "developer", "viewer", "anonymous")
# Kinds of objects that belong to a team (through their application).
TEAM_KINDS = frozenset({"application", "spec", "revision", "execution", "step", "resource"})
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_PATH_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass(frozen=True)
class Endpoint:
    """One (route, HTTP method) of the API."""

    route: str
    url_name: str
    view: Any
    basename: str | None
    method: str
    action: str | None

    @property
    def kind(self) -> str:
        """What the route is about: its router basename, else the first word of its URL name."""
        return self.basename or self.url_name.split("-")[0]

    @property
    def params(self) -> list[str]:
        return _REGEX_GROUP.findall(self.route) + _PATH_PARAM.findall(self.route)

    def path(self, values: dict[str, str]) -> str:
        filled = _REGEX_GROUP.sub(lambda m: values[m.group(1)], self.route)
        filled = _PATH_PARAM.sub(lambda m: values[m.group(1)], filled)
        return "/" + filled.replace("^", "").replace("$", "")


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            yield from _walk(item, prefix + str(item.pattern))
        else:
            yield prefix + str(item.pattern), item


def api_endpoints() -> tuple[list[Endpoint], list[str]]:
    """Every (route, method) under /api/, and the routes that are not DRF views (no permission check)."""
    endpoints, foreign = [], []
    for route, pattern in _walk(get_resolver()):
        if not route.replace("^", "").startswith("api/"):
            continue
        callback = pattern.callback
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view is None or not issubclass(view, APIView):
            foreign.append(route)
            continue
        actions: dict[str, str] | None = getattr(callback, "actions", None)
        basename = (getattr(callback, "initkwargs", None) or {}).get("basename")
        if actions:
            methods = [(method.upper(), action) for method, action in actions.items()]
        else:
            methods = [
                (method.upper(), None)
                for method in view.http_method_names
                if method not in ("options", "head") and hasattr(view, method)
            ]
        for method, action in methods:
            endpoints.append(Endpoint(route, pattern.name or "", view, basename, method, action))
    return endpoints, foreign


def required(endpoint: Endpoint) -> str | None:
    decision = rbac.declared_decision(endpoint.view, basename=endpoint.basename, url_name=endpoint.url_name)
    return rbac.permission_for(decision, action=endpoint.action, method=endpoint.method)


@dataclass
class World:
    """Objects of two teams, and one user per role (developer and viewer are in team-a)."""

    users: dict[str, Any]
    apps: dict[str, Any]
    executions: dict[str, Any]
    resources: dict[str, Any]


@pytest.fixture
def world(make_user: Any) -> World:
    users = {
        "platform-admin": make_user("boss", team=None, role="platform-admin"),
        "developer": make_user("dev-a", team="team-a", role="developer"),
        "viewer": make_user("view-a", team="team-a", role="viewer"),
    }
    owner_b = make_user("dev-b", team="team-b", role="developer")
    for user in [*users.values(), owner_b]:
        services.create_api_key(user=user, name="k")
    apps = {"own": make_application(users["developer"], "app-a"), "other": make_application(owner_b, "app-b")}
    executions = {scope: make_execution(app) for scope, app in apps.items()}
    for execution in executions.values():
        make_step(execution)
    resources = {scope: make_resource(app) for scope, app in apps.items()}
    for app in apps.values():
        # What a deploy leaves behind, so the manifests endpoint has something to show.
        ManifestSet.objects.create(application=app, app_name=app.name, revision_number=1, manifests=[])
    return World(users=users, apps=apps, executions=executions, resources=resources)


def _param_value(endpoint: Endpoint, param: str, scope: str, world: World) -> str:
    """A value for a URL parameter in `scope` (own or other team). Add new routes' parameters here."""
    kind = endpoint.kind
    if kind in ("application", "spec", "revision") and param == "name":
        return str(world.apps[scope].name)
    if kind == "revision" and param in ("number", "other"):
        return "1"
    if kind == "execution" and param in ("id", "pk"):
        return str(world.executions[scope].pk)
    if kind == "resource" and param == "pk":
        return str(world.resources[scope].pk)
    if kind == "goldenpath" and param == "name":
        from workflows.goldenpaths.catalog import golden_paths

        return sorted(golden_paths())[0]
    if kind == "provider" and param == "name":
        from workflows.providers.registry import current_registry

        return sorted(current_registry().providers)[0]
    if (
        endpoint.url_name in ("api-profile-api-key-detail", "api-admin-user-api-key-detail")
        and param == "name"
    ):
        return "k"
    if param == "username":
        return str(world.users["developer"].username)
    raise LookupError(f"no test value for <{param}> of {endpoint.route} ({endpoint.url_name})")


def _client(role: str, world: World) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def _call(client: APIClient, endpoint: Endpoint, path: str) -> Any:
    """One request, rolled back afterwards so a DELETE does not change what the next request sees."""
    with transaction.atomic():
        method = getattr(client, endpoint.method.lower())
        response = (
            method(path, {}, format="json") if endpoint.method in ("POST", "PUT", "PATCH") else method(path)
        )
        transaction.set_rollback(True)
    return response


def _expected(endpoint: Endpoint, needed: str, role: str, scope: str) -> str:
    if needed == rbac.PUBLIC:
        return "allowed"
    if role == "anonymous":
        return "401"
    if needed != rbac.AUTHENTICATED and not rbac.grants(access_config().roles[role], needed):
        return "403"
    if scope == "other" and role != "platform-admin":
        return "404"
    return "allowed"


def _matches(expected: str, status: int) -> bool:
    if expected == "allowed":
        # Validation answers (400, 409, 415) are fine: the request got past authorization.
        return status < 500 and status not in (401, 403, 404, 405)
    return status == int(expected)


@pytest.mark.django_db
def test_every_api_route_has_a_decision_and_answers_per_role_and_team(world: World) -> None:
    endpoints, foreign = api_endpoints()
    assert foreign == [], f"API routes outside DRF (no permission check): {foreign}"
    assert len(endpoints) > 20
    undecided = [f"{e.method} {e.route} ({e.url_name})" for e in endpoints if required(e) is None]
    assert undecided == [], (
        "routes without a permission decision (see innominatus/accounts/rbac.py):\n" + "\n".join(undecided)
    )
    wrong: list[str] = []
    for endpoint in endpoints:
        needed = required(endpoint)
        assert needed is not None
        team_scoped = endpoint.kind in TEAM_KINDS and bool(endpoint.params)
        for scope in ("own", "other") if team_scoped else ("own",):
            path = endpoint.path({p: _param_value(endpoint, p, scope, world) for p in endpoint.params})
            for role in ROLES:
                expected = _expected(endpoint, needed, role, scope if team_scoped else "own")
                # A fresh client per request: POST /api/logout would sign a shared one out.
                response = _call(_client(role, world), endpoint, path)
                if not _matches(expected, response.status_code):
                    wrong.append(
                        f"{role:15} {endpoint.method:6} {path:55} expected {expected}, got "
                        f"{response.status_code} (needs {needed})"
                    )
                elif expected == "allowed" and endpoint.method == "GET" and not endpoint.params:
                    _check_list_isolation(endpoint, role, response, world, wrong)
    assert wrong == [], "RBAC matrix mismatches:\n" + "\n".join(wrong)


def _check_list_isolation(
    endpoint: Endpoint, role: str, response: Any, world: World, wrong: list[str]
) -> None:
    """Team lists show the caller's team only (platform admins see every team)."""
    if endpoint.kind not in TEAM_KINDS or response.status_code != 200:
        return
    body = response.content.decode()
    own, other = world.apps["own"].name, world.apps["other"].name
    if own not in body:
        wrong.append(f"{role:15} GET {endpoint.route}: own team's {own} missing from the list")
    if (other in body) != (role == "platform-admin"):
        wrong.append(f"{role:15} GET {endpoint.route}: other team's {other} visibility wrong")


@pytest.mark.django_db
def test_undecided_views_are_refused_even_to_platform_admins(make_user: Any) -> None:
    from rest_framework.test import APIRequestFactory, force_authenticate

    class Undecided(APIView):
        def get(self, request: Any) -> Any:
            raise AssertionError("must not run")

    request = APIRequestFactory().get("/api/undecided")
    force_authenticate(request, make_user("root", team=None, superuser=True))
    response = Undecided.as_view()(request)
    assert response.status_code == 403
    assert "no permission decision" in str(response.data["detail"])
    anonymous = Undecided.as_view()(APIRequestFactory().get("/api/undecided"))
    assert anonymous.status_code == 401
