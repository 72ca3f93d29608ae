"""Graphs of an execution's steps and of an application's workloads and resources, laid out by Graphviz.

One module serves the portal and the graph API (`/api/workflows/{id}/graph`,
`/api/applications/{name}/graph`): the same nodes and edges become JSON, DOT text or an SVG that
`dot` lays out in layers and routes edges around node boxes (the portal's hand-made columns drew
`a → c` straight through `b`). Layouts are cached by their DOT text, which carries no timings, so a
page polling a running execution re-runs `dot` only when a status changes.
"""

from __future__ import annotations

import re
import shutil
import subprocess  # nosec B404 - runs the fixed `dot` binary on text we generate
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from workflows.models import Application, StepExecution, WorkflowExecution

FORMATS = ("json", "dot", "svg")
DOT_TIMEOUT = 20
# Fill and stroke by tone; the portal's stylesheet overrides them in dark mode through the classes.
TONE_COLOURS: dict[str, tuple[str, str]] = {
    "success": ("#dafbe1", "#1a7f37"),
    "info": ("#ddf4ff", "#0969da"),
    "warning": ("#fff8c5", "#9a6700"),
    "caution": ("#fff1e5", "#bc4c00"),
    "danger": ("#ffebe9", "#cf222e"),
    "neutral": ("#eaeef2", "#57606a"),
    "pending": ("#f6f8fa", "#6e7781"),
}
TONES: dict[str, str] = {
    "completed": "success",
    "succeeded": "success",
    "active": "success",
    "deployed": "success",
    "running": "info",
    "provisioning": "info",
    "updating": "info",
    "deploying": "info",
    "waiting": "warning",
    "requested": "warning",
    "rendered": "caution",
    "degraded": "caution",
    "terminating": "caution",
    "failed": "danger",
    "cancelled": "neutral",
    "skipped": "neutral",
    "terminated": "neutral",
    "pending": "pending",
}


class GraphvizMissing(RuntimeError):
    """The `dot` binary is not installed (Debian package `graphviz`)."""


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    label: str
    kind: str
    status: str
    # Where a click on the node leads (the portal's step detail); not part of the JSON export.
    href: str = ""


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class Graph:
    """Nodes and edges in a stable order; edges name nodes by id and never point at unknown nodes."""

    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "nodes": [{"id": n.id, "label": n.label, "kind": n.kind, "status": n.status} for n in self.nodes],
            "edges": [{"from": e.source, "to": e.target} for e in self.edges],
        }


def _quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as DOT line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def tone(status: str) -> str:
    return TONES.get(status, "neutral")


def to_dot(graph: Graph) -> str:
    """Graphviz text: left-to-right layers, rounded boxes coloured by status, splines around the boxes.

    Node ids in the output are `n0`, `n1`, … (the SVG's element ids); `to_svg` maps them back to the
    real ids, so step names never have to be valid SVG ids.
    """
    index = {node.id: position for position, node in enumerate(graph.nodes)}
    lines = [
        f"digraph {_quote(graph.title)} {{",
        "  graph [rankdir=LR, splines=spline, nodesep=0.35, ranksep=0.6, pad=0.15, bgcolor=transparent,",
        '         fontname="Helvetica", id="graph"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin="0.18,0.08",',
        "        penwidth=1.4, height=0.5];",
        '  edge [color="#8c959f", penwidth=1.3, arrowsize=0.7];',
    ]
    for position, node in enumerate(graph.nodes):
        fill, stroke = TONE_COLOURS[tone(node.status)]
        style = "rounded,filled,dashed" if node.status == "pending" else "rounded,filled"
        label = f"{node.label}\n{node.kind} · {node.status}" if node.kind != "application" else node.label
        lines.append(
            f'  n{position} [id="n{position}", label={_quote(label)}, fillcolor="{fill}", '
            f'color="{stroke}", fontcolor="#1f2328", style="{style}", '
            f'class="graph-node tone-{tone(node.status)}", tooltip={_quote(node.id + ": " + node.status)}'
            + (f", URL={_quote(node.href)}" if node.href else "")
            + "];"
        )
    for number, edge in enumerate(graph.edges):
        lines.append(f'  n{index[edge.source]} -> n{index[edge.target]} [id="e{number}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=256)
def _render_svg(dot_text: str) -> str:
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizMissing("Graphviz is not installed: apt-get install graphviz")
    result = subprocess.run(  # noqa: S603  # nosec B603 - fixed binary, input is generated DOT text
        [binary, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=DOT_TIMEOUT, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"dot failed: {result.stderr.strip()[:500]}")
    svg = result.stdout
    # Drop the XML prolog and doctype so the SVG can be inlined in HTML.
    return svg[svg.index("<svg") :]


_NODE_GROUP = re.compile(r'<g id="n(\d+)" class="node[^"]*">')


def to_svg(graph: Graph) -> str:
    """The Graphviz SVG, with `data-node`, `data-kind` and `data-status` on every node group."""
    svg = _render_svg(to_dot(graph))

    def annotate(match: re.Match[str]) -> str:
        node = graph.nodes[int(match.group(1))]
        return (
            f'<g id="n{match.group(1)}" class="node graph-node tone-{tone(node.status)}" '
            f'data-node="{_attr(node.id)}" data-kind="{_attr(node.kind)}" data-status="{_attr(node.status)}">'
        )

    return _NODE_GROUP.sub(annotate, svg)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def step_graph(steps: Sequence[Any], *, title: str, link_prefix: str = "") -> Graph:
    """Steps as nodes (in workflow order) and `dependsOn` as edges from the dependency to the step.

    With `link_prefix` (e.g. "#step-") each node links to `<prefix><step name>`.
    """
    ordered = sorted(steps, key=lambda step: (step.position, step.name))
    names = {step.name for step in ordered}
    nodes = tuple(
        Node(
            id=step.name,
            label=step.name,
            kind=step.step_type,
            status=step.status,
            # Graphviz copies URLs into the SVG unescaped: percent-encode everything but safe characters.
            href=f"{link_prefix}{quote(step.name, safe='-_.~')}" if link_prefix else "",
        )
        for step in ordered
    )
    edges = tuple(
        Edge(source=dependency, target=step.name)
        for step in ordered
        for dependency in dict.fromkeys(step.depends_on or [])
        if dependency in names and dependency != step.name
    )
    return Graph(title=title, nodes=nodes, edges=edges)


def execution_graph(execution: WorkflowExecution, steps: Iterable[StepExecution] | None = None) -> Graph:
    if steps is None:
        steps = execution.steps.only("name", "status", "step_type", "position", "depends_on")
    return step_graph(list(steps), title=f"Steps of {execution.pk}")


_RESOURCE_REFERENCE = re.compile(r"\$\{resources\.([A-Za-z0-9_.-]+?)\.")


def _references(value: Any) -> set[str]:
    """Resource names a container's settings refer to through `${resources.<name>.…}`."""
    if isinstance(value, str):
        return set(_RESOURCE_REFERENCE.findall(value))
    if isinstance(value, dict):
        return set().union(*(_references(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(item) for item in value)) if value else set()
    return set()


def application_graph(application: Application) -> Graph:
    """The application, its workloads (containers of the current spec) and its resources.

    Edges: application → each container; a container → each resource it refers to; the application →
    resources no container refers to (so every resource is reachable from the application).
    """
    revision = application.current_revision
    spec: dict[str, Any] = revision.spec if revision is not None else {}
    containers = spec.get("containers") or {}
    resources: dict[str, str] = {}
    for name in spec.get("resources") or {}:
        resources[str(name)] = "requested"
    for instance in application.resources.exclude(state="terminated").only("resource_name", "state"):
        resources[instance.resource_name] = instance.state
    app_status = application.deploy_state or "pending"
    nodes = [
        Node(id=f"app:{application.name}", label=application.name, kind="application", status=app_status)
    ]
    edges: list[Edge] = []
    referenced: set[str] = set()
    for name in sorted(containers):
        container_id = f"container:{name}"
        nodes.append(Node(id=container_id, label=str(name), kind="container", status=app_status))
        edges.append(Edge(source=nodes[0].id, target=container_id))
        for resource in sorted(_references(containers[name]) & set(resources)):
            referenced.add(resource)
            edges.append(Edge(source=container_id, target=f"resource:{resource}"))
    for name in sorted(resources):
        nodes.append(Node(id=f"resource:{name}", label=name, kind="resource", status=resources[name]))
        if name not in referenced:
            edges.append(Edge(source=nodes[0].id, target=f"resource:{name}"))
    return Graph(title=f"Application {application.name}", nodes=tuple(nodes), edges=tuple(edges))


def render(graph: Graph, fmt: str) -> tuple[str | dict[str, Any], str]:
    """The graph in `fmt` (json, dot or svg) and its media type."""
    if fmt == "dot":
        return to_dot(graph), "text/vnd.graphviz"
    if fmt == "svg":
        return to_svg(graph), "image/svg+xml"
    return graph.as_json(), "application/json"
