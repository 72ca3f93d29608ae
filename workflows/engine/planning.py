"""Scheduling: effective dependencies, topological order, DAG validation, and `decide` — which
steps run, wait for approval, or are skipped next, and whether the workflow has finished.

Implicit ordering: without `dependsOn`, steps run in file order, one stage after another.
Consecutive `parallel: true` steps form one stage, as do consecutive steps with the same
`parallelGroup`; a stage depends on the whole previous stage. `on_failure` steps hang off the
chain (they depend on the stage before them but no later step depends on them), so a clean-up
step in the middle of a file cannot block the steps after it.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .conditions import Condition, parse_condition
from .errors import (
    ConditionEvaluationError,
    ConditionSyntaxError,
    Problem,
    WorkflowValidationError,
    did_you_mean,
)
from .legacy import condition_context as with_env
from .model import StepDefinition, WorkflowDefinition

TERMINAL_STATUSES = frozenset({"completed", "failed", "skipped", "cancelled"})
ACTIVE_STATUSES = frozenset({"pending", "running", "waiting"})
STATUSES = TERMINAL_STATUSES | ACTIVE_STATUSES
NO_FAILURE_REASON = "skipped: no step failed"


@dataclass(frozen=True)
class StepState:
    """What the runtime knows about one step; `continue_on_error_failed` marks a tolerated failure."""

    status: str
    continue_on_error_failed: bool = False


@dataclass
class Decisions:
    """What to do next. `to_fail` holds steps whose condition could not be evaluated (with why)."""

    to_run: list[str] = field(default_factory=list)
    to_wait: list[str] = field(default_factory=list)
    to_skip: dict[str, str] = field(default_factory=dict)
    to_fail: dict[str, str] = field(default_factory=dict)
    finished: bool = False
    outcome: str | None = None


def effective_dependencies(defn: WorkflowDefinition) -> dict[str, tuple[str, ...]]:
    """Each step's dependencies after applying the implicit stage rules (unknown names dropped)."""
    known = {step.name for step in defn.steps}
    result: dict[str, tuple[str, ...]] = {}
    previous: tuple[str, ...] = ()
    current: list[str] = []
    current_key: tuple[str, ...] | None = None
    for step in defn.steps:
        explicit = tuple(dict.fromkeys(name for name in step.depends_on if name in known))
        if step.when == "on_failure":
            implicit = tuple(current) if current else previous
            result[step.name] = explicit or implicit
            continue
        if step.parallel_group is not None:
            key: tuple[str, ...] | None = ("group", step.parallel_group)
        else:
            key = ("parallel",) if step.parallel else None
        if key is None or key != current_key:
            if current:
                previous = tuple(current)
            current = []
            current_key = key
        current.append(step.name)
        result[step.name] = explicit or previous
    return result


def _cycle_path(deps: Mapping[str, tuple[str, ...]]) -> list[list[str]]:
    """Cycles found by depth-first search, each as the list of names along it (first repeated last)."""
    color: dict[str, int] = dict.fromkeys(deps, 0)
    cycles: list[list[str]] = []
    seen_cycles: set[frozenset[str]] = set()
    for root in deps:
        if color[root]:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(deps[root]))]
        color[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                color[node] = 2
                stack.pop()
            elif color.get(child) == 1:
                names = [name for name, _ in stack]
                cycle = [*names[names.index(child) :], child]
                if frozenset(cycle) not in seen_cycles:
                    seen_cycles.add(frozenset(cycle))
                    cycles.append(cycle)
            elif color.get(child) == 0:
                color[child] = 1
                stack.append((child, iter(deps[child])))
    return cycles


def validate_dag(defn: WorkflowDefinition, step_paths: Sequence[str] | None = None) -> list[Problem]:
    """Duplicate names, unknown or self dependencies, and cycles (named), as Problems.

    `step_paths[i]` is where step i sits in the source document (default `steps[i]`).
    """
    problems: list[Problem] = []
    names = [step.name for step in defn.steps]
    known = set(names)

    def where(index: int, step: StepDefinition) -> str:
        return step_paths[index] if step_paths is not None and index < len(step_paths) else f"steps[{index}]"

    seen: set[str] = set()
    for index, step in enumerate(defn.steps):
        if step.name in seen:
            problems.append(
                Problem(
                    where(index, step),
                    f"duplicate step name '{step.name}'",
                    "duplicate_step",
                    "give each step a unique name",
                )
            )
        seen.add(step.name)
        for dep_index, dep in enumerate(step.depends_on):
            path = f"{where(index, step)}.dependsOn[{dep_index}]"
            if dep == step.name:
                problems.append(Problem(path, f"step '{dep}' depends on itself", "dependency_cycle"))
            elif dep not in known:
                hint = did_you_mean(dep, names) or f"steps: {', '.join(names)}"
                problems.append(
                    Problem(
                        path,
                        f"step '{step.name}' depends on unknown step '{dep}'",
                        "unknown_dependency",
                        hint,
                    )
                )
    deps = {
        name: tuple(d for d in dependencies if d != name)
        for name, dependencies in effective_dependencies(defn).items()
    }
    for cycle in _cycle_path(deps):
        first = defn.step(cycle[0])
        problems.append(
            Problem(
                where(names.index(first.name), first),
                "dependency cycle: " + " -> ".join(cycle),
                "dependency_cycle",
                "remove one of these dependsOn entries",
            )
        )
    return problems


@dataclass(frozen=True)
class _Graph:
    order: tuple[str, ...]
    deps: dict[str, tuple[str, ...]]
    dependents: dict[str, tuple[str, ...]]
    steps: dict[str, StepDefinition]


_last_graph: tuple[WorkflowDefinition, _Graph] | None = None


def _graph(defn: WorkflowDefinition) -> _Graph:
    # A one-entry identity cache: the runtime calls decide() many times for the same definition.
    global _last_graph
    cached = _last_graph
    if cached is not None and cached[0] is defn:
        return cached[1]
    deps = effective_dependencies(defn)
    dependents: dict[str, list[str]] = {name: [] for name in deps}
    for name, dependencies in deps.items():
        for dep in dependencies:
            dependents[dep].append(name)
    graph = _Graph(
        order=tuple(topological_order(defn)),
        deps=deps,
        dependents={name: tuple(items) for name, items in dependents.items()},
        steps={step.name: step for step in defn.steps},
    )
    _last_graph = (defn, graph)
    return graph


def topological_order(defn: WorkflowDefinition) -> list[str]:
    """Steps ordered so dependencies come first; ties keep file order. Raises on a cycle."""
    deps = effective_dependencies(defn)
    index = {step.name: position for position, step in enumerate(defn.steps)}
    remaining = {name: len(set(dependencies)) for name, dependencies in deps.items()}
    dependents: dict[str, list[str]] = {name: [] for name in deps}
    for name, dependencies in deps.items():
        for dep in set(dependencies):
            dependents[dep].append(name)
    ready = [(index[name], name) for name, count in remaining.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for child in dependents[name]:
            remaining[child] -= 1
            if remaining[child] == 0:
                heapq.heappush(ready, (index[child], child))
    if len(order) != len(deps):
        raise WorkflowValidationError(
            validate_dag(defn) or [Problem("steps", "dependency cycle", "dependency_cycle")]
        )
    return order


_parse = functools.lru_cache(maxsize=2048)(parse_condition)


class _StepsView(Mapping[str, Mapping[str, Any]]):
    """`steps.<name>` for conditions: live statuses from decide, outputs from the caller's context."""

    def __init__(self, status: Mapping[str, str], given: Mapping[str, Any]) -> None:
        self._status = status
        self._given = given

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        status = self._status[name]
        outputs = (self._given.get(name) or {}).get("outputs") or {}
        return {"status": status, "outputs": outputs, "output": outputs}

    def __iter__(self) -> Iterator[str]:
        return iter(self._status)

    def __len__(self) -> int:
        return len(self._status)


def _check_conditions(step: StepDefinition, context: Mapping[str, Any]) -> tuple[str, str | None]:
    """("run", None), ("skip", reason) or ("fail", message) for the step's if/unless."""
    try:
        for expression, wanted in ((step.if_expr, True), (step.unless_expr, False)):
            if expression is None:
                continue
            condition: Condition = _parse(expression)
            if condition.evaluate(context) != wanted:
                if wanted:
                    return "skip", f"condition `{expression}` was false"
                return "skip", f"unless-condition `{expression}` was true"
    except (ConditionSyntaxError, ConditionEvaluationError) as exc:
        return "fail", f"cannot evaluate the condition of step '{step.name}': {exc}"
    return "run", None


def decide(
    defn: WorkflowDefinition, states: Mapping[str, StepState], context: Mapping[str, Any] | None = None
) -> Decisions:
    """Decide the next actions from the current step states; cheap enough to call after every step."""
    graph = _graph(defn)
    status: dict[str, str] = {}
    for name in graph.order:
        state = states.get(name)
        status[name] = state.status if state is not None else "pending"
        if status[name] not in STATUSES:
            raise ValueError(f"step '{name}' has unknown status {status[name]!r}")
    decisions = Decisions()
    if "cancelled" in status.values():
        decisions.finished = "running" not in status.values()
        decisions.outcome = "cancelled" if decisions.finished else None
        return decisions

    def tolerated(name: str) -> bool:
        state = states.get(name)
        return graph.steps[name].continue_on_error or (state is not None and state.continue_on_error_failed)

    failures = [name for name in graph.order if status[name] == "failed" and not tolerated(name)]
    base = dict(context or {})
    condition_context = {**base, "steps": _StepsView(status, base.get("steps") or {})}

    def failing_reason(name: str) -> str:
        failed_dep = next((d for d in graph.deps[name] if d in failures), None)
        return f"dependency '{failed_dep}' failed" if failed_dep else f"step '{failures[0]}' failed"

    def start(name: str, step: StepDefinition) -> None:
        verdict, reason = _check_conditions(step, with_env(step.env, condition_context))
        if verdict == "skip":
            decisions.to_skip[name] = reason or ""
            status[name] = "skipped"
        elif verdict == "fail":
            decisions.to_fail[name] = reason or ""
            status[name] = "failed"
            if not step.continue_on_error:
                failures.append(name)
        elif step.when == "manual":
            decisions.to_wait.append(name)
            status[name] = "waiting"
        else:
            decisions.to_run.append(name)
            status[name] = "running"

    changed = True
    while changed:
        changed = False
        for name in graph.order:
            step = graph.steps[name]
            current = status[name]
            gated = step.when in ("on_success", "manual")
            if failures and gated and current in ("pending", "waiting"):
                decisions.to_skip[name] = failing_reason(name)
                status[name] = "skipped"
                continue
            if current != "pending" or any(status[d] not in TERMINAL_STATUSES for d in graph.deps[name]):
                continue
            if step.when == "on_failure" and not failures:
                continue
            start(name, step)
            changed = True
        if not failures and _nothing_can_fail(graph, status):
            for name in graph.order:
                step = graph.steps[name]
                deps_done = all(status[d] in TERMINAL_STATUSES for d in graph.deps[name])
                if step.when == "on_failure" and status[name] == "pending" and deps_done:
                    decisions.to_skip[name] = NO_FAILURE_REASON
                    status[name] = "skipped"
                    changed = True

    if all(value in TERMINAL_STATUSES for value in status.values()):
        decisions.finished = True
        decisions.outcome = "failed" if failures else "completed"
    return decisions


def _nothing_can_fail(graph: _Graph, status: Mapping[str, str]) -> bool:
    """True when every unfinished step is a pending on_failure step or waits (transitively) on one."""
    blocked: set[str] = set()
    frontier = [n for n in graph.order if graph.steps[n].when == "on_failure" and status[n] == "pending"]
    while frontier:
        name = frontier.pop()
        if name in blocked:
            continue
        blocked.add(name)
        frontier.extend(graph.dependents[name])
    return all(status[name] in TERMINAL_STATUSES or name in blocked for name in graph.order)
