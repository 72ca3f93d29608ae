"""The first admin: created once, in a team of its own, so the quick start's first deploy works."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SPEC = "apiVersion: score.dev/v1b1\nmetadata:\n  name: hello\ncontainers:\n  web:\n    image: nginx:1.27\n"


def test_the_first_admin_joins_the_platform_team_and_can_deploy_at_once() -> None:
    out = io.StringIO()
    call_command("bootstrap_admin", stdout=out)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert list(admin.teams.values_list("name", flat=True)) == ["platform"]
    assert "team:     platform" in out.getvalue()
    client = APIClient()
    client.force_authenticate(admin)
    response = client.post("/api/applications", SPEC, content_type="application/yaml")
    assert response.status_code == 201, response.content
    assert response.json()["plan"]["team"] == "platform"


def test_the_team_can_be_named_and_must_be_a_valid_team_name() -> None:
    call_command("bootstrap_admin", "--username", "root", "--team", "ops", stdout=io.StringIO())
    assert list(get_user_model().objects.get(username="root").teams.values_list("name", flat=True)) == ["ops"]
    with pytest.raises(CommandError, match="not a valid team name"):
        call_command("bootstrap_admin", "--username", "other", "--team", "no spaces", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="other").exists()
