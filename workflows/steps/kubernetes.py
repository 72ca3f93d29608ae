"""The `kubernetes` step (alias `k8s`): apply, delete or get manifests through the official client.

Configuration:

- `operation`: `apply` (default; server-side apply with field manager `innominatus`), `delete` or `get`.
- `manifests`: YAML text (several documents) or a list of mappings.
- `namespace`: default namespace for namespaced objects; `create_namespace: true` applies it first.
- `wait` (default true for apply): wait for Deployments, StatefulSets and DaemonSets to roll out,
  within `wait_timeout` (default 5m; `poll_interval` default 2s).
- `kubeconfig`: explicit kubeconfig path; otherwise KUBECONFIG or the in-cluster service account.
- `missing_ok` (get): a missing object is reported, not a failure.
- `kubernetes_version`, `require_schema`: how manifests are validated before anything is sent.
- `environment`: the environment of the application the objects belong to (ephemeral environments).

Inside an execution every applied object carries the ownership labels of the execution's team and
application (workflows/runtime/ownership.py). Before an apply or a delete the live object is read: one
that exists and is not owned by the same team and application (or environment) fails the step with a
message naming it, and nothing is sent; so is an object in a namespace that innominatus does not own
for them.

With no cluster configured, or `render_only: true`, the manifests are still parsed and validated,
nothing is sent, and the step completes with `applied: false` and the reason. Secret contents
are never logged or returned: log lines and outputs name objects by kind and name only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from workflows.engine.durations import parse_duration
from workflows.runtime.cluster import cluster_status
from workflows.runtime.errors import KubeError
from workflows.runtime.kube import KubeAdapter, connect
from workflows.runtime.manifests import apply_order, describe, object_ref, parse_manifests
from workflows.runtime.ownership import Owner, ownership_problem, stamp
from workflows.runtime.rollout import ROLLOUT_KINDS
from workflows.runtime.validation import check_manifest
from workflows.score.pod_security import POD_SECURITY_LABELS
from workflows.steps.base import Step, StepContext, StepResult

OPERATIONS = ("apply", "delete", "get")
DEFAULT_WAIT_TIMEOUT = 300.0
DEFAULT_POLL_INTERVAL = 2.0
BOOLEAN_KEYS = ("wait", "create_namespace", "render_only", "missing_ok", "require_schema")


def _templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def _file_names(value: Any) -> bool:
    names = [str(m).strip() for m in value] if isinstance(value, list) else []
    return bool(names) and all(n.endswith((".yaml", ".yml", ".json")) and "\n" not in n for n in names)


def _aliased(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The original's `manifest:` (one Go-templated YAML string) is `manifests:` here."""
    if "manifest" in config and "manifests" not in config:
        return {**{k: v for k, v in config.items() if k != "manifest"}, "manifests": config["manifest"]}
    return config


class KubernetesStep(Step):
    """Applies (server-side), deletes or reads manifests, waiting for workload rollouts."""

    type_name = "kubernetes"
    aliases = ("k8s",)
    touches_cluster = True

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        problems: list[str] = []
        if "manifest" in config and "manifests" in config:
            problems.append("set only one of config.manifest (the original's spelling) and config.manifests")
        config = _aliased(config)
        if _file_names(config.get("manifests")):
            return [
                "config.manifests lists file names: never supported (the original innominatus did not read "
                "them either); put the manifests themselves under config.manifests"
            ]
        operation = config.get("operation", "apply")
        if operation not in OPERATIONS and not _templated(operation):
            problems.append(f"config.operation must be one of {', '.join(OPERATIONS)}, not {operation!r}")
        manifests = config.get("manifests")
        if manifests in (None, "", [], {}):
            problems.append("config.manifests is required")
        elif not _templated(manifests):
            try:
                if not isinstance(manifests, list) or not any(_templated(m) for m in manifests):
                    parse_manifests(manifests)
            except ValueError as exc:
                problems.append(f"config.manifests: {exc}")
        for key in ("wait_timeout", "poll_interval"):
            value = config.get(key)
            if value is not None and not _templated(value):
                try:
                    parse_duration(value)
                except ValueError as exc:
                    problems.append(f"config.{key}: {exc}")
        for key in BOOLEAN_KEYS:
            value = config.get(key)
            textual = isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no")
            if value is not None and not isinstance(value, bool) and not _templated(value) and not textual:
                problems.append(f"config.{key} must be true or false")
        for key in ("namespace", "kubeconfig", "kubernetes_version", "environment"):
            if config.get(key) is not None and not isinstance(config.get(key), str):
                problems.append(f"config.{key} must be a string")
        return problems

    def run(self, ctx: StepContext) -> StepResult:
        config = _aliased(ctx.config)
        problems = self.validate_config(config)
        if problems:
            return StepResult.fail("; ".join(problems))
        operation = str(config.get("operation", "apply"))
        namespace = config.get("namespace") or None
        try:
            manifests = apply_order(parse_manifests(config["manifests"]))
        except ValueError as exc:
            return StepResult.fail(f"config.manifests: {exc}")
        listed = any(
            m.get("kind") == "Namespace" and (m.get("metadata") or {}).get("name") == namespace
            for m in manifests
        )
        if operation == "apply" and _flag(config.get("create_namespace"), False) and namespace and not listed:
            labels = dict(POD_SECURITY_LABELS)
            manifests.insert(
                0,
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}},
            )
        invalid = self._validate(ctx, operation, manifests)
        if invalid:
            return StepResult.fail(invalid)
        planned = [object_ref(m, namespace) for m in manifests]

        reason, unusable = self._render_only_reason(ctx)
        if unusable:
            ctx.log(unusable, "system")
            return StepResult.fail(unusable)
        if reason:
            ctx.log(f"render-only mode: nothing was applied because {reason}", "system")
            for ref in planned:
                ctx.log(f"would {operation} {describe(ref)}", "system")
            return StepResult.ok(
                applied=False, render_only=True, reason=reason, operation=operation, objects=planned
            )

        owner = _owner(ctx)
        try:
            adapter = connect(config.get("kubeconfig") or None)
            if operation == "apply":
                if owner is not None:
                    manifests = [_stamped(m, owner, ctx.execution_id) for m in manifests]
                refused = _refusal(adapter, manifests, namespace, owner)
                if refused:
                    ctx.log(f"kubernetes apply refused: {refused}", "system")
                    return StepResult.fail(f"kubernetes apply refused: {refused}")
                return self._apply(ctx, adapter, manifests, namespace)
            if operation == "delete":
                return self._delete(ctx, adapter, manifests, namespace, owner)
            return self._get(ctx, adapter, manifests, namespace, owner)
        except KubeError as exc:
            ctx.log(f"kubernetes {operation} failed: {exc}", "system")
            return StepResult.fail(f"kubernetes {operation} failed: {exc}")

    def _validate(self, ctx: StepContext, operation: str, manifests: list[dict[str, Any]]) -> str:
        """Schema-check manifests for apply (delete/get need only identities); a failure message or ''."""
        errors: list[str] = []
        for manifest in manifests:
            if operation == "apply":
                check = check_manifest(
                    manifest,
                    ctx.config.get("kubernetes_version") or None,
                    require_schema=_flag(ctx.config.get("require_schema"), False),
                )
                errors.extend(check.errors)
                for warning in check.warnings:
                    ctx.log(warning, "system")
            else:
                ref = object_ref(manifest)
                if not (manifest.get("apiVersion") and ref["kind"] and ref["name"]):
                    label = f"{ref['kind'] or '?'}/{ref['name'] or '?'}"
                    errors.append(f"{label}: apiVersion, kind and metadata.name are required")
        for error in errors:
            ctx.log(f"invalid manifest: {error}", "system")
        if not errors:
            return ""
        return f"{len(errors)} manifest problem(s): {errors[0]}" + (" …" if len(errors) > 1 else "")

    def _render_only_reason(self, ctx: StepContext) -> tuple[str, str]:
        """(why nothing may be sent, why the configured cluster cannot be used); both '' when it can.

        Only the absence of any cluster means render-only: a configured but broken one is an error.
        """
        if _flag(ctx.config.get("render_only"), False):
            return "render_only is set for this step", ""
        status = cluster_status(ctx.config.get("kubeconfig") or None)
        if status.available:
            return "", ""
        if status.source == "none":
            return status.reason, ""
        return "", f"cluster configuration ({status.source}) is unusable: {status.reason}"

    def _apply(
        self, ctx: StepContext, adapter: KubeAdapter, manifests: list[dict[str, Any]], namespace: str | None
    ) -> StepResult:
        applied: list[dict[str, Any]] = []
        for manifest in manifests:
            ctx.raise_if_stopped()
            result = adapter.apply(manifest, namespace=namespace)
            metadata = result.get("metadata") or {}
            ref = {
                "kind": result.get("kind") or manifest.get("kind"),
                "name": metadata.get("name"),
                "namespace": metadata.get("namespace"),
                "uid": metadata.get("uid"),
            }
            applied.append(ref)
            ctx.log(f"applied {describe(ref)} (generation {metadata.get('generation', '?')})", "system")
        if not _flag(ctx.config.get("wait"), True):
            return StepResult.ok(applied=True, operation="apply", objects=applied)

        timeout = parse_duration(ctx.config.get("wait_timeout", DEFAULT_WAIT_TIMEOUT))
        poll = parse_duration(ctx.config.get("poll_interval", DEFAULT_POLL_INTERVAL))
        rollouts: list[dict[str, Any]] = []
        for ref in applied:
            if ref["kind"] not in ROLLOUT_KINDS:
                continue
            ctx.log(f"waiting for {describe(ref)} to roll out (up to {timeout:g}s)", "system")
            try:
                status = adapter.wait_for_rollout(
                    ref["namespace"],
                    ref["name"],
                    ref["kind"],
                    timeout=timeout,
                    check_stop=lambda: ctx.raise_if_stopped(),
                    poll_interval=poll,
                    on_progress=lambda message: ctx.log(message, "system"),
                )
            except KubeError as exc:
                ctx.log(f"rollout of {describe(ref)} failed: {exc.message}", "system")
                return StepResult.fail(
                    f"rollout of {describe(ref)} failed: {exc.message}", applied=True, objects=applied
                )
            ctx.log(status.message, "system")
            rollouts.append({**ref, "message": status.message})
        return StepResult.ok(applied=True, operation="apply", objects=applied, rollouts=rollouts)

    def _delete(
        self,
        ctx: StepContext,
        adapter: KubeAdapter,
        manifests: list[dict[str, Any]],
        namespace: str | None,
        owner: Owner | None,
    ) -> StepResult:
        deleted: list[dict[str, Any]] = []
        # Ownership of every object is checked before the first one goes: a refusal deletes nothing.
        for manifest in manifests:
            problem = _delete_refusal(adapter, manifest, namespace, owner)
            if problem:
                ctx.log(f"kubernetes delete refused: {problem}", "system")
                return StepResult.fail(f"kubernetes delete refused: {problem}")
        # Reverse apply order: routes and workloads go before what they use; namespaces last.
        for manifest in reversed(manifests):
            ctx.raise_if_stopped()
            ref = object_ref(manifest, namespace)
            # Checked again just before the delete: the object may have been replaced meanwhile.
            problem = _delete_refusal(adapter, manifest, namespace, owner)
            if problem:
                ctx.log(f"kubernetes delete refused: {problem}", "system")
                return StepResult.fail(f"kubernetes delete refused: {problem}", objects=deleted)
            gone = adapter.delete(str(manifest["apiVersion"]), ref["kind"], ref["name"], ref["namespace"])
            ctx.log(f"deleted {describe(ref)}" if gone else f"{describe(ref)} was already gone", "system")
            deleted.append({**ref, "deleted": gone})
        return StepResult.ok(applied=True, operation="delete", objects=deleted)

    def _get(
        self,
        ctx: StepContext,
        adapter: KubeAdapter,
        manifests: list[dict[str, Any]],
        namespace: str | None,
        owner: Owner | None,
    ) -> StepResult:
        found: list[dict[str, Any]] = []
        missing: list[str] = []
        for manifest in manifests:
            ctx.raise_if_stopped()
            ref = object_ref(manifest, namespace)
            obj = adapter.get(str(manifest["apiVersion"]), ref["kind"], ref["name"], ref["namespace"])
            if obj is None:
                missing.append(describe(ref))
                ctx.log(f"{describe(ref)} not found", "system")
                found.append({**ref, "found": False})
                continue
            # Objects of other teams or of the cluster are not read either (ConfigMaps tell a lot).
            problem = ownership_problem(obj, owner, read=True) if owner is not None else ""
            if problem:
                ctx.log(f"kubernetes get refused: {problem}", "system")
                return StepResult.fail(f"kubernetes get refused: {problem}")
            ctx.log(f"found {describe(ref)}", "system")
            found.append(
                {**ref, "found": True, "uid": obj["metadata"].get("uid"), "object": _safe_object(obj)}
            )
        if missing and not _flag(ctx.config.get("missing_ok"), False):
            return StepResult.fail(f"not found: {', '.join(missing)}", applied=True, objects=found)
        return StepResult.ok(applied=True, operation="get", objects=found)


def _owner(ctx: StepContext) -> Owner | None:
    """The execution's owner, narrowed to the environment the step names."""
    if ctx.owner is None:
        return None
    environment = ctx.config.get("environment")
    if environment:
        return replace(ctx.owner, environment=str(environment))
    return ctx.owner


def _for_kind(owner: Owner, kind: str) -> Owner:
    """Namespaces belong to the application, never to one of its resources."""
    return replace(owner, resource_uid="") if kind == "Namespace" else owner


def _stamped(manifest: Mapping[str, Any], owner: Owner, execution_id: str) -> dict[str, Any]:
    kind = str(manifest.get("kind") or "")
    shared = owner.shared_scope(kind, str((manifest.get("metadata") or {}).get("name") or ""))
    return stamp(manifest, _for_kind(owner, kind), execution_id=execution_id, shared=shared)


def _delete_refusal(
    adapter: KubeAdapter, manifest: Mapping[str, Any], namespace: str | None, owner: Owner | None
) -> str:
    """Why the live object of `manifest` must not be deleted; '' when it may (or is gone)."""
    if owner is None:
        return ""
    ref = object_ref(manifest, namespace)
    live = adapter.get(str(manifest["apiVersion"]), ref["kind"], ref["name"], ref["namespace"])
    if not live:
        return ""
    if owner.shared_scope(ref["kind"], ref["name"]):
        # A shared namespace outlives every application that placed something in it.
        return f"namespace {ref['name']} is shared; innominatus never deletes it for one application"
    return ownership_problem(live, _for_kind(owner, ref["kind"]))


def _refusal(
    adapter: KubeAdapter, manifests: list[dict[str, Any]], namespace: str | None, owner: Owner | None
) -> str:
    """Why an apply must not happen (an object or its namespace is not the owner's); '' when it may."""
    if owner is None:
        return ""
    namespaces: dict[str, dict[str, Any] | None] = {}
    for manifest in manifests:
        ref = object_ref(manifest, namespace)
        api_version = str(manifest["apiVersion"])
        shared = owner.shared_scope(ref["kind"], ref["name"])
        live = adapter.get(api_version, ref["kind"], ref["name"], ref["namespace"])
        if live is not None:
            problem = ownership_problem(live, _for_kind(owner, ref["kind"]), shared=shared)
            if problem:
                return problem
        target = ref["namespace"]
        if target is None or target in namespaces:
            continue
        namespaces[target] = adapter.get("v1", "Namespace", target)
        found = namespaces[target]
        if found is not None:
            problem = ownership_problem(
                found, _for_kind(owner, "Namespace"), shared=owner.shared_scope("Namespace", target)
            )
            if problem:
                return problem
    return ""


def _safe_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An object fit for outputs: no managedFields, and a Secret shows its keys but never its values."""
    result = dict(obj)
    result["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    if obj.get("kind") == "Secret":
        keys = sorted({*(obj.get("data") or {}), *(obj.get("stringData") or {})})
        result.pop("data", None)
        result.pop("stringData", None)
        result["dataKeys"] = keys
    return result
