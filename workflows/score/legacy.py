"""The original innominatus's Score dialect, translated into Score before validation.

The Go original decoded Score files into structs, so it accepted shapes that are not Score:
a resource's `properties:` (merged into the resource configuration), a container's `env:` and
`ports:` (accepted, then silently dropped). A platform team
migrating brings those files unchanged, so they are accepted here — but never silently: every
translation is returned as a warning that names the Score field to use instead, and what the
author meant reaches the workload (`env` becomes `variables`, `ports` become `service.ports`).
Unknown top-level keys stay refused: a misspelt `resource:` would otherwise drop every resource.

Plain Python, no Django. Runs on the parsed document before the Score schema sees it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}


@dataclass(frozen=True)
class LegacyWarning:
    """One translation of the original's dialect: where, a stable code and what to write instead."""

    pointer: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "code": self.code, "message": self.message}


def _pointer(*parts: str | int) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def translate(document: Mapping[str, Any]) -> tuple[dict[str, Any], list[LegacyWarning]]:
    """The document in plain Score plus innominatus extensions, and one warning per translation.

    Anything that is not one of the recognised legacy shapes is left alone, so the schema still
    reports real mistakes (a misspelt field inside a container stays an error).
    """
    data = copy.deepcopy(dict(document))
    warnings: list[LegacyWarning] = []
    resources = data.get("resources")
    if isinstance(resources, Mapping):
        for name, resource in resources.items():
            if isinstance(resource, dict):
                _properties(str(name), resource, warnings)
    containers = data.get("containers")
    if isinstance(containers, Mapping):
        for name, container in containers.items():
            if isinstance(container, dict):
                _env(str(name), container, warnings)
                _ports(str(name), container, data, warnings)
    return data, warnings


def _properties(name: str, resource: dict[str, Any], warnings: list[LegacyWarning]) -> None:
    if "properties" not in resource:
        return
    properties = resource["properties"]
    if not isinstance(properties, Mapping):
        return  # not the legacy shape: the schema reports it
    params = resource.get("params")
    if params is not None and not isinstance(params, Mapping):
        return
    del resource["properties"]
    # params win: they are the Score field, properties the original's older spelling of it.
    resource["params"] = {**properties, **(params or {})}
    overridden = sorted(set(properties) & set(params or {}))
    note = f"; params win for {', '.join(overridden)}" if overridden else ""
    warnings.append(
        LegacyWarning(
            _pointer("resources", name, "properties"),
            "deprecated-properties",
            f"'properties' is the original innominatus's extension and is deprecated: merged under "
            f"'params'{note}; write 'params' instead",
        )
    )


def _env(name: str, container: dict[str, Any], warnings: list[LegacyWarning]) -> None:
    if "env" not in container:
        return
    env = container["env"]
    converted: dict[str, Any] | None = None
    if isinstance(env, Mapping):
        converted = dict(env)
    elif isinstance(env, list) and all(isinstance(i, Mapping) and "name" in i for i in env):
        # Kubernetes' list form: [{name: X, value: y}]
        converted = {str(item["name"]): item.get("value", "") for item in env}
    variables = container.get("variables")
    if converted is None or (variables is not None and not isinstance(variables, Mapping)):
        return
    del container["env"]
    container["variables"] = {**converted, **(variables or {})}
    warnings.append(
        LegacyWarning(
            _pointer("containers", name, "env"),
            "converted-env",
            "'env' is not Score (the original innominatus accepted it and silently dropped it): converted "
            "to the Score field 'variables', which wins where both set a name; write 'variables' instead",
        )
    )


def _ports(name: str, container: dict[str, Any], data: dict[str, Any], warnings: list[LegacyWarning]) -> None:
    if "ports" not in container:
        return
    ports = container["ports"]
    if not isinstance(ports, list) or not all(isinstance(p, Mapping) for p in ports):
        return
    service = data.get("service")
    if service is not None and not (
        isinstance(service, dict) and isinstance(service.get("ports", {}), Mapping)
    ):
        return
    converted: dict[str, dict[str, Any]] = {}
    for index, port in enumerate(ports):
        number = port.get("port", port.get("containerPort"))
        if not isinstance(number, int) or isinstance(number, bool):
            return  # not a shape we can translate faithfully: leave it for the schema to report
        entry: dict[str, Any] = {"port": number}
        target = port.get("targetPort", port.get("containerPort"))
        if isinstance(target, int) and not isinstance(target, bool) and target != number:
            entry["targetPort"] = target
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol.lower() in PROTOCOLS:
            entry["protocol"] = PROTOCOLS[protocol.lower()]
        port_name = port.get("name")
        key = str(port_name) if isinstance(port_name, str) and port_name else f"port-{index}"
        converted[key] = entry
    del container["ports"]
    service = data.setdefault("service", {})
    service["ports"] = {**converted, **(service.get("ports") or {})}
    warnings.append(
        LegacyWarning(
            _pointer("containers", name, "ports"),
            "converted-ports",
            "'ports' under a container is not Score (the original innominatus accepted it and silently "
            "dropped it): converted to the Score field 'service.ports'; write 'service.ports' instead",
        )
    )
