"""Every accepted Score sample deploys end to end against the fake Kubernetes API server."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.fakekube import FakeKube
from tests.workflows.deploy.helpers import (
    SAMPLES,
    application,
    failure_report,
    last_execution,
    ns,
    sample,
    submit,
)
from workflows.choices import ExecutionStatus, ResourceState
from workflows.models import ManifestSet, ResourceInstance
from workflows.runtime.validation import check_manifest
from workflows.score import ScoreValidationError, ingest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("platform", "fake_kubeconfig")]

ACCEPTED = [
    "compose-01-hello-score.yaml",
    "compose-02-environment-score.yaml",
    "compose-05-volume-mounts-score.yaml",
    "compose-06-resource-provisioning-score.yaml",
    "compose-09-dns-and-route-score.yaml",
    "compose-12-mysql-database-score.yaml",
    "spec-readme-postgres-dns-route.yaml",
    "spec-score-deprecated-files-and-volumes.yaml",
]


def test_the_accepted_list_is_exactly_what_ingest_accepts() -> None:
    accepted = []
    for path in sorted(SAMPLES.glob("*.yaml")):
        try:
            ingest(path.read_text())
        except ScoreValidationError:
            continue
        accepted.append(path.name)
    # The B workload of the service-port sample needs workload A first; it has its own test.
    paired = {  # deployed in pairs by test_deploy_links.py
        "compose-06-resource-provisioning-score2.yaml",
        "compose-08-service-port-resource-scoreA.yaml",
        "compose-08-service-port-resource-scoreB.yaml",
    }
    assert sorted(set(accepted) - paired) == ACCEPTED


@pytest.mark.parametrize("name", ACCEPTED)
def test_sample_deploys_with_valid_objects(name: str, developer: Any, fake_kube: FakeKube) -> None:
    result = submit(developer, sample(name))
    app = result.application.name
    execution = last_execution(app)
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    assert application(app).deploy_state == "deployed"
    stored = ManifestSet.objects.get(app_name=app, operation="apply")
    assert stored.applied
    for manifest in stored.manifests:
        assert check_manifest(manifest, require_schema=True).errors == []
    deployment = fake_kube.get_object("Deployment", app, ns(app))
    assert deployment is not None
    spec = yaml.safe_load(sample(name))
    assert [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]] == list(
        spec["containers"]
    )
    for resource in ResourceInstance.objects.filter(app_name=app):
        assert resource.state == ResourceState.ACTIVE, (resource, resource.error_message)
