"""Dependency graphs between named things: deterministic topological order and cycle reporting."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Collection, Mapping

# node -> the nodes it depends on; names not in the mapping are ignored.
Graph = Mapping[str, Collection[str]]


class CycleError(ValueError):
    """The graph has cycles; ``cycles`` holds one closed path per cycle, e.g. ``["a", "b", "a"]``."""

    def __init__(self, cycles: list[list[str]]) -> None:
        self.cycles = cycles
        super().__init__("; ".join(" -> ".join(cycle) for cycle in cycles))


def _edges(graph: Graph, node: str) -> list[str]:
    return sorted(dep for dep in graph[node] if dep in graph)


def topological_order(graph: Graph) -> list[str]:
    """Every node after the nodes it depends on; ties broken by name, so the order is stable."""
    waiting = {node: len(_edges(graph, node)) for node in graph}
    dependents: dict[str, list[str]] = {node: [] for node in graph}
    for node in graph:
        for dep in _edges(graph, node):
            dependents[dep].append(node)
    ready = [node for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for dependent in dependents[node]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)
    if len(order) != len(graph):
        raise CycleError(find_cycles(graph))
    return order


def _components(graph: Graph) -> list[list[str]]:
    """Strongly connected components (Tarjan's algorithm, iterative so depth is never a concern)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            edges = _edges(graph, node)
            if position < len(edges):
                work.append((node, position + 1))
                nxt = edges[position]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result


def _closed_path(graph: Graph, members: list[str]) -> list[str]:
    """A shortest cycle through the first member, staying inside the component."""
    start = members[0]
    inside = set(members)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in _edges(graph, node):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if nxt in inside and nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return [*members, start]


def find_cycles(graph: Graph) -> list[list[str]]:
    """One closed path per cycle (a component of two or more nodes, or a node that needs itself)."""
    cycles = []
    for members in _components(graph):
        if len(members) > 1 or members[0] in graph[members[0]]:
            cycles.append(_closed_path(graph, members))
    return sorted(cycles)
