"""The tenancy sections of admin-config.yaml: parsing, start-up check, image matching."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from workflows.providers.checks import check_tenancy_policy
from workflows.providers.policies import image_allowed, normalise_image, parse, tenancy_policy


def test_shared_resources_and_allowed_images_are_read() -> None:
    policy = parse(
        {
            "sharedResources": [
                {
                    "type": "postgres",
                    "id": "analytics-db",
                    "params": {"version": "16"},
                    "teams": ["payments"],
                },
                {"type": "redis", "class": "large", "id": "cache"},
            ],
            "policies": {"allowedImages": ["registry.example.com/*"]},
        }
    )
    db = policy.platform_resource("postgres", "", "analytics-db")
    assert db is not None and db.params == {"version": "16"}
    assert db.allows("payments") and not db.allows("search")
    cache = policy.platform_resource("redis", "large", "cache")
    assert cache is not None and cache.allows("anyone")
    assert policy.platform_resource("redis", "default", "cache") is None
    assert policy.allowed_images == ("registry.example.com/*",)
    assert parse(None).shared == {} and parse({}).allowed_images == ()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"sharedResources": {"type": "postgres"}}, "sharedResources must be a list"),
        ({"sharedResources": [{"type": "postgres"}]}, "sharedResources[0].id must be non-empty text"),
        ({"sharedResources": [{"type": "postgres", "id": "x", "params": [1]}]}, "sharedResources[0].params"),
        ({"sharedResources": [{"type": "postgres", "id": "x", "teams": "a"}]}, "sharedResources[0].teams"),
        (
            {"sharedResources": [{"type": "postgres", "id": "x"}, {"type": "postgres", "id": "x"}]},
            "sharedResources[1] repeats postgres.default#x",
        ),
        ({"policies": {"allowedImages": "nginx"}}, "policies.allowedImages must be a list"),
    ],
)
def test_malformed_entries_name_the_key(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(document)


def test_the_system_check_reports_a_malformed_file(admin_config: Callable[[dict[str, Any]], Path]) -> None:
    admin_config({"sharedResources": [{"id": "x"}]})
    errors = check_tenancy_policy()
    assert [error.id for error in errors] == ["workflows.E002"]
    assert "sharedResources[0].type" in errors[0].msg
    admin_config({"sharedResources": [{"type": "postgres", "id": "x"}]})
    assert check_tenancy_policy() == []
    assert tenancy_policy().platform_resource("postgres", "default", "x") is not None


def test_images_are_matched_by_their_full_reference() -> None:
    assert normalise_image("nginx:1.27") == "docker.io/library/nginx:1.27"
    assert normalise_image("team/app:1") == "docker.io/team/app:1"
    assert normalise_image("localhost/app") == "localhost/app"
    assert normalise_image("registry:5000/app") == "registry:5000/app"
    patterns = ("docker.io/library/nginx:*",)
    assert image_allowed("nginx:1.27", patterns)
    assert not image_allowed("nginx.evil.io/nginx:1.27", patterns)
    assert image_allowed("anything", ())
