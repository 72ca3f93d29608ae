"""POST/GET/DELETE /api/applications: Score samples, invalid specs, revisions, dry runs and diffs."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.workflows.api.factories import HELLO, SAMPLES, post_spec
from workflows.models import Application, DeploymentRevision

pytestmark = pytest.mark.django_db

# Samples that need something an API cannot have, and the problem codes that must explain it.
REFUSED_SAMPLES = {
    "compose-03-files-score.yaml": {"file-source-unsupported"},
    "spec-score-full.yaml": {
        "file-source-unsupported",
        "image-build-unsupported",
        "unknown-resource-type",
        "probe-host-forbidden",
    },
}


def spec(
    *, name: str = "shop", containers: str = "  main:\n    image: nginx:1.27", resources: str = "  {}"
) -> str:
    return (
        f"apiVersion: score.dev/v1b1\nmetadata:\n  name: {name}\ncontainers:\n{containers}\n"
        f"resources:\n{resources}\n"
    )


def rows() -> tuple[int, int]:
    return Application.objects.count(), DeploymentRevision.objects.count()


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.yaml")))
def test_official_samples_are_accepted_or_refused_for_a_documented_reason(
    submit: Callable[..., Any], sample: str
) -> None:
    response = submit((SAMPLES / sample).read_text())
    if sample not in REFUSED_SAMPLES:
        assert response.status_code == 201, response.json()
        assert response.json()["revision"]["number"] == 1
        return
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    codes = {error["code"] for error in response.json()["errors"]}
    assert codes == REFUSED_SAMPLES[sample]
    assert rows() == (0, 0)


def test_submission_creates_application_and_first_revision(
    submit: Callable[..., Any], developer: Any
) -> None:
    response = submit(HELLO, comment="first")
    assert response.status_code == 201
    body = response.json()
    assert response["Location"].endswith("/api/applications/hello")
    assert body["created"] is True
    assert body["application"]["name"] == "hello"
    assert body["application"]["team"] == "team-a"
    assert body["application"]["current_revision"]["number"] == 1
    assert body["revision"]["comment"] == "first"
    assert body["plan"]["resources"] == [
        {"name": "db", "type": "postgres", "class": "default", "id": None, "action": "create"}
    ]
    revision = DeploymentRevision.objects.get()
    assert revision.source == HELLO
    assert revision.created_by == developer
    assert len(revision.content_hash) == 64
    assert revision.spec["containers"]["main"]["image"] == "nginx:1.27"


def test_json_body_is_accepted(submit: Callable[..., Any]) -> None:
    document = {
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": "jsonapp"},
        "containers": {"web": {"image": "x"}},
    }
    response = submit(json.dumps(document), content_type="application/json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("media_type", ["application/x-yaml", "text/yaml", "application/yaml; charset=utf-8"])
def test_every_yaml_media_type_is_accepted(submit: Callable[..., Any], media_type: str) -> None:
    assert submit(HELLO, content_type=media_type).status_code == 201


def test_identical_resubmission_creates_no_revision(submit: Callable[..., Any]) -> None:
    assert submit(HELLO).status_code == 201
    again = submit(HELLO)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["revision"]["number"] == 1
    assert again.json()["plan"]["changed"] is False
    assert rows() == (1, 1)


def test_changed_spec_becomes_revision_two_with_a_plan(submit: Callable[..., Any]) -> None:
    submit(HELLO)
    changed = HELLO.replace("nginx:1.27", "nginx:1.28") + "  cache:\n    type: redis\n"
    response = submit(changed, comment="bump")
    assert response.status_code == 201
    body = response.json()
    assert body["revision"]["number"] == 2
    assert body["application"]["revision_count"] == 2
    # The plan says what the deploy does: no worker ran the first deploy here (its queue message waits
    # for a commit that this test's transaction never makes), so db is still to be created.
    assert {r["name"]: r["action"] for r in body["plan"]["resources"]} == {
        "db": "create",
        "cache": "create",
    }
    assert Application.objects.get().current_revision.number == 2


def test_comment_from_header(api: APIClient) -> None:
    response = api.post(
        "/api/applications", data=HELLO, content_type="application/yaml", HTTP_X_COMMENT="hdr"
    )
    assert response.json()["revision"]["comment"] == "hdr"


def test_dry_run_plans_and_writes_nothing(submit: Callable[..., Any]) -> None:
    before = rows()
    response = submit(HELLO, dry_run="true")
    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True
    assert body["created"] is False
    assert body["application"] is None
    assert body["plan"]["exists"] is False
    assert body["plan"]["changed"] is True
    assert body["plan"]["next_revision"] == 1
    assert body["plan"]["containers"] == ["main"]
    assert rows() == before


def test_dry_run_of_a_change_shows_update_and_delete(submit: Callable[..., Any]) -> None:
    submit(HELLO + "  cache:\n    type: redis\n")
    before = rows()
    changed = HELLO.replace("    type: postgres\n", "    type: postgres\n    class: large\n")
    body = submit(changed, dry_run="true").json()
    # No worker ran the first deploy here (its queue message waits for a commit that never comes): db
    # was never provisioned, so the deploy creates it, now with the new class.
    assert {r["name"]: r["action"] for r in body["plan"]["resources"]} == {"db": "create", "cache": "delete"}
    assert body["plan"]["next_revision"] == 2
    assert body["application"]["name"] == "hello"
    assert rows() == before


def test_resources_are_planned_in_dependency_order(submit: Callable[..., Any]) -> None:
    sample = (SAMPLES / "spec-readme-postgres-dns-route.yaml").read_text()
    order = [r["name"] for r in submit(sample, dry_run="true").json()["plan"]["resources"]]
    # The route's params use ${resources.dns.host}: dns must come first.
    assert order.index("dns") < order.index("route")


INVALID = {
    "bad apiVersion": (spec().replace("score.dev/v1b1", "score.dev/v2"), "apiVersion"),
    "bad metadata.name": (spec(name="Not_A_Name"), "metadata.name"),
    "empty containers": (spec(containers="  {}"), "containers"),
    "file without content or source": (
        spec(containers="  main:\n    image: nginx\n    files:\n      /etc/app.conf:\n        mode: '0644'"),
        "containers.main.files./etc/app.conf",
    ),
    "unknown resource type": (spec(resources="  db:\n    type: quantum-db"), "resources.db.type"),
    "placeholder to undeclared resource": (
        spec(containers="  main:\n    image: nginx\n    variables:\n      X: ${resources.nope.host}"),
        "containers.main.variables.X",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_specs_are_refused_with_their_path(submit: Callable[..., Any], case: str) -> None:
    text, path = INVALID[case]
    response = submit(text)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400
    assert body["code"] == "invalid_spec"
    assert [error["path"] for error in body["errors"]] == [path]
    assert set(body["errors"][0]) == {"path", "pointer", "message", "code", "line"}
    assert rows() == (0, 0)


def test_resources_reference_their_declared_names(submit: Callable[..., Any]) -> None:
    # The same placeholder, once declared, is fine: the refusal above is about the missing resource.
    text = spec(
        containers="  main:\n    image: nginx\n    variables:\n      X: ${resources.db.host}",
        resources="  db:\n    type: postgres",
    )
    assert submit(text).status_code == 201


def test_resource_cycle_is_refused(submit: Callable[..., Any]) -> None:
    resources = (
        "  db-a:\n    type: postgres\n    params:\n      x: ${resources.db-b.host}\n"
        "  db-b:\n    type: redis\n    params:\n      y: ${resources.db-a.host}"
    )
    response = submit(spec(resources=resources))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors
    assert all(error["path"].startswith("resources.db-") for error in errors)
    assert any("cycle" in error["code"] or "cycle" in error["message"] for error in errors)


def test_all_problems_are_reported_at_once(submit: Callable[..., Any]) -> None:
    text = spec(name="Bad_Name", containers="  {}").replace("score.dev/v1b1", "score.dev/v2")
    errors = submit(text).json()["errors"]
    assert [error["path"] for error in errors] == ["apiVersion", "metadata.name", "containers"]


def test_malformed_yaml_is_a_problem_with_a_line(submit: Callable[..., Any]) -> None:
    response = submit("apiVersion: [unclosed\nmetadata: {}\n")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "yaml-syntax"
    assert error["line"] is not None


def test_empty_body_is_a_problem(submit: Callable[..., Any]) -> None:
    response = submit("")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not-a-mapping"


def test_oversize_body_is_413(submit: Callable[..., Any], settings: Any) -> None:
    settings.SCORE_MAX_BYTES = 2048
    response = submit(HELLO + "# " + "x" * 4096 + "\n")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert rows() == (0, 0)


def test_wrong_content_type_is_415(submit: Callable[..., Any]) -> None:
    response = submit(HELLO, content_type="text/plain")
    assert response.status_code == 415
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 415


def test_invalid_query_parameter_is_a_problem(submit: Callable[..., Any]) -> None:
    response = submit(HELLO, dry_run="perhaps")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "dry_run"


def test_unknown_team_is_refused(submit: Callable[..., Any]) -> None:
    response = submit(HELLO, team="no-such-team")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "team"
    assert rows() == (0, 0)


def test_team_of_which_the_user_is_no_member_is_refused(submit: Callable[..., Any], make_user: Any) -> None:
    make_user("other", team="team-b")
    assert submit(HELLO, team="team-b").status_code == 403
    assert rows() == (0, 0)


def test_resubmission_cannot_move_an_application_to_another_team(
    submit: Callable[..., Any], developer: Any, make_user: Any
) -> None:
    from innominatus.accounts.models import Team

    submit(HELLO)
    Team.objects.create(name="team-c").members.add(developer)
    assert submit(HELLO.replace("1.27", "1.28"), team="team-c").status_code == 409


def test_submitting_over_another_teams_application_is_forbidden(
    submit: Callable[..., Any], make_user: Any
) -> None:
    other = APIClient()
    other.force_authenticate(make_user("bob", team="team-b"))
    assert post_spec(other, HELLO).status_code == 201
    response = submit(HELLO.replace("1.27", "1.28"))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert DeploymentRevision.objects.count() == 1


def test_platform_admin_may_submit_for_any_team(submit: Callable[..., Any], admin_api: APIClient) -> None:
    submit(HELLO)
    response = post_spec(admin_api, HELLO.replace("1.27", "1.28"))
    assert response.status_code == 201
    assert response.json()["application"]["team"] == "team-a"


def test_list_filter_search_and_order(submit: Callable[..., Any], api: APIClient) -> None:
    for name in ("zeta", "alpha", "beta"):
        submit(spec(name=name))
    names = [a["name"] for a in api.get("/api/applications").json()["results"]]
    assert names == ["alpha", "beta", "zeta"]
    names = [a["name"] for a in api.get("/api/applications?ordering=-name").json()["results"]]
    assert names == ["zeta", "beta", "alpha"]
    assert [a["name"] for a in api.get("/api/applications?search=et").json()["results"]] == ["beta", "zeta"]
    assert api.get("/api/applications?team=team-a").json()["count"] == 3
    assert api.get("/api/applications?team=team-z").json()["count"] == 0


def test_detail_has_current_spec(submit: Callable[..., Any], api: APIClient) -> None:
    submit(HELLO)
    body = api.get("/api/applications/hello").json()
    assert body["spec"]["metadata"]["name"] == "hello"
    assert body["current_revision"]["number"] == 1
    assert api.get("/api/applications/nope").status_code == 404


def test_delete(submit: Callable[..., Any], api: APIClient) -> None:
    submit(HELLO)
    assert api.delete("/api/applications/hello").status_code == 204
    assert rows() == (0, 0)
    assert api.delete("/api/applications/hello").status_code == 404


def test_extensions_are_stored_apart(submit: Callable[..., Any], api: APIClient) -> None:
    text = HELLO + "workflows:\n  deploy:\n    steps:\n      - name: s\n        type: noop\n"
    assert submit(text).status_code == 201
    revision = DeploymentRevision.objects.get()
    assert "workflows" not in revision.spec
    assert revision.extensions["workflows"]["deploy"]["steps"][0]["name"] == "s"
    assert api.get("/api/applications/hello").json()["extensions"] == revision.extensions
