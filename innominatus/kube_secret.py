"""Reads one key of a Kubernetes Secret at start-up (DB_PASSWORD_SECRET), with the official client.

Self-contained on purpose: settings must not import the workflows app. In a pod it uses the
service account (in-cluster config); elsewhere KUBECONFIG. The namespace is POD_NAMESPACE, else the
service account's namespace file, else the kubeconfig context's namespace, else "default".
"""

import base64
import binascii
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# (connect, read) seconds: a missing API server must fail start-up quickly, not hang it.
REQUEST_TIMEOUT = (5, 10)


def _client_and_namespace() -> tuple[object, str]:
    from kubernetes import client, config

    configuration = client.Configuration()
    context_namespace = ""
    kubeconfig = os.environ.get("KUBECONFIG", "")
    if os.environ.get("KUBERNETES_SERVICE_HOST") and not kubeconfig:
        config.load_incluster_config(client_configuration=configuration)
    else:
        config.load_kube_config(config_file=kubeconfig or None, client_configuration=configuration)
        _, active = config.list_kube_config_contexts(config_file=kubeconfig or None)
        context_namespace = (active or {}).get("context", {}).get("namespace", "")
    namespace = os.environ.get("POD_NAMESPACE", "").strip()
    if not namespace and SERVICE_ACCOUNT_NAMESPACE.is_file():
        namespace = SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    return client.ApiClient(configuration), namespace or context_namespace or "default"


def read_secret_key(name: str, key: str = "password") -> str:
    """The decoded `key` of Secret `name` in the pod's namespace; ImproperlyConfigured if unreadable."""
    try:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api_client, namespace = _client_and_namespace()
    except Exception as exc:  # the kubernetes package raises many kinds, all mean the same here
        raise ImproperlyConfigured(
            f"DB_PASSWORD_SECRET={name!r}: no Kubernetes configuration (in-cluster or KUBECONFIG): {exc}"
        ) from None
    where = f"Secret {namespace}/{name}"
    try:
        with api_client:  # type: ignore[attr-defined]
            secret = client.CoreV1Api(api_client).read_namespaced_secret(
                name, namespace, _request_timeout=REQUEST_TIMEOUT
            )
    except ApiException as exc:
        reason = {403: "forbidden (RBAC: grant get on this Secret)", 404: "not found"}.get(
            exc.status, exc.reason
        )
        raise ImproperlyConfigured(
            f"DB_PASSWORD_SECRET: cannot read {where}: {exc.status} {reason}"
        ) from None
    except Exception as exc:
        raise ImproperlyConfigured(
            f"DB_PASSWORD_SECRET: Kubernetes API unreachable for {where}: {exc}"
        ) from None
    data = secret.data or {}
    if key not in data:
        raise ImproperlyConfigured(f"DB_PASSWORD_SECRET: {where} has no key {key!r}")
    try:
        return base64.b64decode(data[key], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ImproperlyConfigured(
            f"DB_PASSWORD_SECRET: {where} key {key!r} is not valid base64 UTF-8"
        ) from None
