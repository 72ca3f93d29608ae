"""Reads one key of a Kubernetes Secret at start-up (DB_PASSWORD_SECRET), with the official client, and
which Secret the web Deployment names (DB_PASSWORD_SECRET_FROM).

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


# The container of the followed Deployment whose environment names the Secret.
FOLLOWED_CONTAINER = "server"


def followed_secret_name(deployment: str, default: str = "") -> str:
    """DB_PASSWORD_SECRET as the web Deployment `deployment` (container `server`) sets it now; `default`
    when that Deployment does not exist yet (the pre-install migration) or sets none."""
    try:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api_client, namespace = _client_and_namespace()
    except Exception as exc:
        raise ImproperlyConfigured(
            f"DB_PASSWORD_SECRET_FROM={deployment!r}: no Kubernetes configuration: {exc}"
        ) from None
    where = f"Deployment {namespace}/{deployment}"
    try:
        with api_client:  # type: ignore[attr-defined]
            found = client.AppsV1Api(api_client).read_namespaced_deployment(
                deployment, namespace, _request_timeout=REQUEST_TIMEOUT
            )
    except ApiException as exc:
        if exc.status == 404:
            return default
        reason = {403: "forbidden (RBAC: grant get on this Deployment)"}.get(exc.status, exc.reason)
        raise ImproperlyConfigured(
            f"DB_PASSWORD_SECRET_FROM: cannot read {where}: {exc.status} {reason}"
        ) from None
    except Exception as exc:
        raise ImproperlyConfigured(
            f"DB_PASSWORD_SECRET_FROM: Kubernetes API unreachable for {where}: {exc}"
        ) from None
    pod = found.spec.template.spec if found.spec and found.spec.template else None
    for container in (pod.containers if pod else None) or []:
        if container.name != FOLLOWED_CONTAINER:
            continue
        for variable in container.env or []:
            if variable.name == "DB_PASSWORD_SECRET" and variable.value:
                return str(variable.value)
    return default
