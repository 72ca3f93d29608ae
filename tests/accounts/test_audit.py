"""The audit log: every write with who, what, which object, from where, when and the request id."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from innominatus.accounts import services
from innominatus.accounts.models import AuditEvent
from tests.workflows.api.factories import make_application, make_execution, score
from workflows.choices import ExecutionStatus


def _session(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_api_writes_are_recorded_with_request_id_and_address(make_user: Any) -> None:
    user = make_user("alice")
    client = _session(user)
    response = client.post(
        "/api/applications",
        data=score("audited"),
        content_type="application/yaml",
        HTTP_X_REQUEST_ID="req-123",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code in (200, 201, 202), response.content
    assert response["X-Request-ID"] == "req-123"
    event = AuditEvent.objects.get(request_id="req-123")
    assert (event.username, event.user, event.action) == ("alice", user, "create")
    assert (event.object_type, event.object_id) == ("application", "audited")
    assert (event.method, event.path, event.client_ip) == ("POST", "/api/applications", "10.1.2.3")
    assert event.status_code == response.status_code
    assert event.auth_method == "session"

    deleted = client.delete("/api/applications/audited")
    assert deleted.status_code in (202, 204), deleted.content
    event = AuditEvent.objects.filter(action="delete").get()
    assert (event.object_type, event.object_id, event.status_code) == (
        "application",
        "audited",
        deleted.status_code,
    )


@pytest.mark.django_db
def test_refused_writes_and_reads(make_user: Any) -> None:
    viewer = make_user("vic", role="viewer")
    refused = _session(viewer).post("/api/applications", data=score("x"), content_type="application/yaml")
    assert refused.status_code == 403
    assert AuditEvent.objects.exclude(action="login").get(username="vic").status_code == 403
    anonymous = APIClient().delete("/api/applications/x")
    assert anonymous.status_code == 401
    assert AuditEvent.objects.get(status_code=401).username == ""
    reader = _session(viewer)
    before = AuditEvent.objects.count()
    reader.get("/api/applications")
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_generated_request_ids_are_echoed(make_user: Any) -> None:
    response = APIClient().get("/api/auth/config", HTTP_X_REQUEST_ID="bad id with spaces")
    assert len(response["X-Request-ID"]) == 32 and " " not in response["X-Request-ID"]


@pytest.mark.django_db
def test_admin_writes_are_recorded(make_user: Any, plain_static: None) -> None:
    root = make_user("root", team=None, superuser=True)
    client = Client()
    client.force_login(root)
    response = client.post("/admin/accounts/team/add/", {"name": "gamma", "display_name": "Gamma"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="create")
    assert (event.object_type, event.username, event.method) == ("accounts.team", "root", "POST")


@pytest.mark.django_db
def test_portal_writes_are_recorded(make_user: Any, plain_static: None) -> None:
    user = make_user("paula")
    execution = make_execution(make_application(user, "portal-app"), status=ExecutionStatus.RUNNING)
    client = Client()
    client.force_login(user)
    response = client.post(
        f"/workflows/{execution.pk}/cancel", {"reason": "stop", "confirmed": "yes"}, REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="cancel")
    assert (event.object_type, event.object_id, event.username) == ("execution", execution.pk, "paula")
    assert (event.client_ip, event.status_code, event.auth_method) == ("10.9.8.7", 302, "session")


@pytest.mark.django_db
def test_audit_api_is_for_admins_and_filters(make_user: Any) -> None:
    admin = make_user("boss", team=None, role="platform-admin")
    dev = make_user("dev")
    make_application(dev, "one")
    services.create_api_key(user=dev, name="k1", actor=dev)
    services.revoke_api_key(user=dev, name="k1", actor=dev)
    assert _session(dev).get("/api/audit").status_code == 403
    everything = _session(admin).get("/api/audit").json()
    actions = [e["action"] for e in everything["results"] if e["action"] != "login"]
    assert actions[:2] == ["api_key_revoked", "api_key_created"]
    filtered = _session(admin).get("/api/audit?action=api_key_created&user=dev").json()
    assert [e["object_id"] for e in filtered["results"]] == ["dev/k1"]
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert _session(admin).get("/api/audit", {"since": future}).json()["count"] == 0


@pytest.mark.django_db
def test_purge_keeps_recent_events(make_user: Any) -> None:
    user = make_user("old")
    services.create_api_key(user=user, name="a")
    AuditEvent.objects.update(occurred_at=timezone.now() - timedelta(days=100))
    services.create_api_key(user=user, name="b")
    cutoff = timezone.now() - timedelta(days=90)
    assert services.purge_audit_events(cutoff, dry_run=True) == 1
    assert AuditEvent.objects.count() == 2
    assert services.purge_audit_events(cutoff) == 1
    assert list(AuditEvent.objects.values_list("object_id", flat=True)) == ["old/b"]
