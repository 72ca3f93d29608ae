"""Resource dependency order and cycle detection."""

from __future__ import annotations

import pytest

from workflows.score import CycleError, find_cycles, topological_order


def test_dependencies_come_first_and_ties_sort_by_name() -> None:
    graph = {"route": {"dns"}, "dns": set(), "db": set(), "app": {"route", "db"}, "zeta": set()}
    assert topological_order(graph) == ["db", "dns", "route", "app", "zeta"]


def test_edges_to_unknown_nodes_are_ignored() -> None:
    assert topological_order({"a": {"missing"}, "b": {"a"}}) == ["a", "b"]


def test_empty_graph() -> None:
    assert topological_order({}) == []
    assert find_cycles({}) == []


def test_cycles_are_reported_as_closed_paths() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "s": {"s"}, "x": {"y"}, "y": {"x"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["s", "s"], ["x", "y", "x"]]
    with pytest.raises(CycleError) as caught:
        topological_order(graph)
    assert caught.value.cycles == [["a", "b", "c", "a"], ["s", "s"], ["x", "y", "x"]]
    assert str(caught.value) == "a -> b -> c -> a; s -> s; x -> y -> x"


def test_shortest_cycle_is_reported_within_a_component() -> None:
    graph = {"a": {"b", "c"}, "b": {"a"}, "c": {"b"}}
    assert find_cycles(graph) == [["a", "b", "a"]]


def test_long_chains_need_no_recursion() -> None:
    chain = {f"n{i:05d}": {f"n{i + 1:05d}"} for i in range(5000)}
    chain["n05000"] = set()
    order = topological_order(chain)
    assert order[0] == "n05000"
    assert order[-1] == "n00000"
    chain["n05000"] = {"n00000"}
    [cycle] = find_cycles(chain)
    assert len(cycle) == 5002
