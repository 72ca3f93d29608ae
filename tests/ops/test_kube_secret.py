"""DB_PASSWORD_SECRET: settings read the database password from a Kubernetes Secret at start-up,
through the official client, here against the fake API server over real HTTP."""

import base64
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from innominatus.kube_secret import read_secret_key
from tests.fakekube.fake import FakeKube
from tests.ops.servers import REPO, VENV_BIN, subprocess_env

PRINT_PASSWORD = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['PASSWORD'])"
)


@pytest.fixture
def cluster(fake_kube: FakeKube, fake_kubeconfig: Path) -> Any:
    """The fake cluster with namespace platform holding Secret innominatus-db (password rotated-pw)."""
    api = k8s_config.new_client_from_config(config_file=str(fake_kubeconfig), persist_config=False)
    core = k8s.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "platform"}})
    core.create_namespaced_secret(
        "platform",
        {
            "metadata": {"name": "innominatus-db"},
            "data": {"password": base64.b64encode(b"rotated-pw").decode()},
        },
    )
    return fake_kube


def test_the_password_is_read_from_the_pods_namespace(
    cluster: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "platform")
    assert read_secret_key("innominatus-db", "password") == "rotated-pw"
    request = [r for r in cluster.requests if r.method == "GET" and "/secrets/" in r.path][-1]
    assert request.path == "/api/v1/namespaces/platform/secrets/innominatus-db"


def test_the_kubeconfig_context_namespace_is_the_fallback(
    cluster: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    monkeypatch.setenv(
        "KUBECONFIG", str(cluster.write_kubeconfig(tmp_path / "ns-config", namespace="platform"))
    )
    assert read_secret_key("innominatus-db") == "rotated-pw"


@pytest.mark.parametrize(
    ("name", "key", "message"),
    [
        ("missing", "password", "cannot read Secret platform/missing: 404 not found"),
        ("innominatus-db", "pw", "Secret platform/innominatus-db has no key 'pw'"),
    ],
)
def test_problems_are_clear_start_up_errors(
    cluster: FakeKube, monkeypatch: pytest.MonkeyPatch, name: str, key: str, message: str
) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "platform")
    with pytest.raises(ImproperlyConfigured, match=message):
        read_secret_key(name, key)


def test_an_unreachable_api_server_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakekube.fake import write_kubeconfig

    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig("http://127.0.0.1:9", tmp_path / "dead")))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    started = time.monotonic()
    with pytest.raises(
        ImproperlyConfigured, match="Kubernetes API unreachable for Secret default/innominatus-db"
    ):
        read_secret_key("innominatus-db")
    assert time.monotonic() - started < 20


def test_settings_use_the_secret_when_db_password_secret_is_set(
    cluster: FakeKube, fake_kubeconfig: Path
) -> None:
    env = subprocess_env(
        DB_PASSWORD="from-env",
        DB_PASSWORD_SECRET="innominatus-db",
        KUBECONFIG=fake_kubeconfig,
        POD_NAMESPACE="platform",
        PROMETHEUS_MULTIPROC_DIR="",
    )
    run = subprocess.run(
        [str(VENV_BIN / "python"), "-c", PRINT_PASSWORD],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "rotated-pw"

    env["DB_PASSWORD_SECRET"] = "innominatus-db-new"
    run = subprocess.run(
        [str(VENV_BIN / "python"), "-c", PRINT_PASSWORD],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert (
        "ImproperlyConfigured: DB_PASSWORD_SECRET: cannot read Secret platform/innominatus-db-new: 404"
        in run.stderr
    )
