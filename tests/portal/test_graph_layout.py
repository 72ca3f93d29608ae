"""The Graphviz step graph: layered layout whose edges never pass through a node box that is not their end."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest

from tests.portal.graph_geometry import crossings, parse
from workflows.services.graphs import Graph, step_graph, to_dot, to_svg


def steps(spec: dict[str, list[str]], status: str = "completed") -> list[Any]:
    return [
        SimpleNamespace(name=name, position=i, step_type="script", status=status, depends_on=deps)
        for i, (name, deps) in enumerate(spec.items())
    ]


DEPLOY = {
    "provision-db": [],
    "provision-route": ["provision-db"],
    "deploy": ["provision-db", "provision-route"],
}
RELEASE = {
    "build": [],
    "unit-tests": ["build"],
    "lint": ["build"],
    "approve-release": ["unit-tests", "lint"],
    "release": ["approve-release"],
    "notify": ["build", "release"],
}


def random_dag(seed: int, size: int) -> dict[str, list[str]]:
    chooser = random.Random(seed)
    names = [f"step-{index}" for index in range(size)]
    return {
        name: chooser.sample(names[:index], k=min(index, chooser.randint(0, 3)))
        for index, name in enumerate(names)
    }


@pytest.mark.parametrize(
    "spec", [DEPLOY, RELEASE, *(random_dag(seed, 14) for seed in range(6))], ids=lambda s: f"{len(s)}-steps"
)
def test_no_edge_passes_through_a_node_that_is_not_its_end(spec: dict[str, list[str]]) -> None:
    graph = step_graph(steps(spec), title="t")
    svg = to_svg(graph)
    boxes, edges = parse(svg)
    assert len(boxes) == len(spec)
    assert len(edges) == sum(len(set(deps)) for deps in spec.values())
    assert crossings(svg) == []


def test_the_checker_sees_a_crossing() -> None:
    # A straight segment from the first to the third node of a row crosses the middle one: the
    # geometric check must report exactly that (otherwise the test above could not fail).
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg">'
        '<g id="n0" class="node"><polygon points="0,0 50,0 50,20 0,20"/></g>'
        '<g id="n1" class="node"><polygon points="100,0 150,0 150,20 100,20"/></g>'
        '<g id="n2" class="node"><polygon points="200,0 250,0 250,20 200,20"/></g>'
        '<g id="e0" class="edge"><title>n0-&gt;n2</title><path d="M50,10C100,10 150,10 200,10"/></g>'
        "</svg>"
    )
    assert crossings(svg) == ["n0->n2 crosses n1"]


def test_svg_carries_step_names_statuses_and_links() -> None:
    graph = step_graph(steps(DEPLOY, "running"), title="Steps <of> x", link_prefix="#step-")
    svg = to_svg(graph)
    assert 'data-node="provision-db"' in svg and 'data-status="running"' in svg
    assert 'href="#step-deploy"' in svg
    assert "<title>Steps &lt;of&gt; x</title>" in svg
    assert svg.startswith("<svg")


def test_dot_and_json_share_nodes_and_edges() -> None:
    graph = step_graph(steps({"a": [], 'b "quoted"': ["a", "a", "missing"]}), title="t")
    assert graph.as_json() == {
        "nodes": [
            {"id": "a", "label": "a", "kind": "script", "status": "completed"},
            {"id": 'b "quoted"', "label": 'b "quoted"', "kind": "script", "status": "completed"},
        ],
        "edges": [{"from": "a", "to": 'b "quoted"'}],
    }
    dot = to_dot(graph)
    assert 'label="b \\"quoted\\"\\nscript · completed"' in dot
    assert "n0 -> n1" in dot


def test_empty_graph_renders() -> None:
    assert "<svg" in to_svg(Graph(title="none", nodes=(), edges=()))
