"""Scheduling: implicit stages, explicit DAGs, and decide() across success, failure, approval and cancel."""

import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from workflows.engine import (
    Decisions,
    StepDefinition,
    StepState,
    WorkflowDefinition,
    WorkflowValidationError,
    decide,
    effective_dependencies,
    topological_order,
)
from workflows.engine.planning import NO_FAILURE_REASON

Load = Callable[..., WorkflowDefinition]


def flow(*steps: dict[str, Any]) -> WorkflowDefinition:
    return WorkflowDefinition(name="t", steps=tuple(StepDefinition(**{"type": "noop", **s}) for s in steps))


def states(**given: str) -> dict[str, StepState]:
    return {name: StepState(status) for name, status in given.items()}


class Run:
    """Drives decide() the way the runtime does, applying every decision."""

    def __init__(self, defn: WorkflowDefinition, context: Mapping[str, Any] | None = None) -> None:
        self.defn = defn
        self.context = context or {}
        self.status = {step.name: "pending" for step in defn.steps}
        self.skipped: dict[str, str] = {}
        self.last = Decisions()

    def step(self) -> Decisions:
        decisions = decide(self.defn, {n: StepState(s) for n, s in self.status.items()}, self.context)
        for name in decisions.to_run:
            self.status[name] = "running"
        for name in decisions.to_wait:
            self.status[name] = "waiting"
        for name, reason in decisions.to_skip.items():
            self.status[name] = "skipped"
            self.skipped[name] = reason
        for name in decisions.to_fail:
            self.status[name] = "failed"
        self.last = decisions
        return decisions

    def finish(self, name: str, status: str = "completed") -> Decisions:
        assert self.status[name] in ("running", "waiting"), (name, self.status[name])
        self.status[name] = status
        return self.step()


def test_sequential_by_default() -> None:
    defn = flow({"name": "a"}, {"name": "b"}, {"name": "c"})
    assert effective_dependencies(defn) == {"a": (), "b": ("a",), "c": ("b",)}
    run = Run(defn)
    assert run.step().to_run == ["a"]
    assert run.finish("a").to_run == ["b"]
    assert run.finish("b").to_run == ["c"]
    final = run.finish("c")
    assert (final.finished, final.outcome) == (True, "completed")


def test_parallel_flags_and_groups_form_stages() -> None:
    defn = flow(
        {"name": "lint", "parallel": True},
        {"name": "scan", "parallel": True},
        {"name": "db", "parallel_group": "1"},
        {"name": "cache", "parallel_group": "1"},
        {"name": "web", "parallel": True, "parallel_group": "2"},
        {"name": "api", "parallel": True, "parallel_group": "2"},
        {"name": "x", "parallel": True},
        {"name": "verify"},
    )
    assert effective_dependencies(defn) == {
        "lint": (),
        "scan": (),
        "db": ("lint", "scan"),
        "cache": ("lint", "scan"),
        "web": ("db", "cache"),
        "api": ("db", "cache"),
        "x": ("web", "api"),
        "verify": ("x",),
    }
    run = Run(defn)
    assert run.step().to_run == ["lint", "scan"]
    assert run.finish("lint").to_run == []
    assert run.finish("scan").to_run == ["db", "cache"]


def test_explicit_dependencies_win_and_form_a_diamond() -> None:
    defn = flow(
        {"name": "build"},
        {"name": "unit", "depends_on": ("build",)},
        {"name": "e2e", "depends_on": ("build",)},
        {"name": "deploy", "depends_on": ("unit", "e2e")},
    )
    deps = effective_dependencies(defn)
    assert deps["e2e"] == ("build",)
    run = Run(defn)
    assert run.step().to_run == ["build"]
    assert run.finish("build").to_run == ["unit", "e2e"]
    assert run.finish("e2e").to_run == []
    assert run.finish("unit").to_run == ["deploy"]
    assert run.finish("deploy").outcome == "completed"


def test_topological_order_keeps_file_order_for_ties_and_rejects_cycles() -> None:
    defn = flow(
        {"name": "c", "depends_on": ("a",)},
        {"name": "a", "depends_on": ("b",)},
        {"name": "b", "depends_on": ()},
    )
    # b has no explicit deps, so it runs after the previous stage (a): a cycle.
    with pytest.raises(WorkflowValidationError, match="cycle"):
        topological_order(defn)
    defn = flow({"name": "z"}, {"name": "y", "depends_on": ("z",)}, {"name": "x", "depends_on": ("z",)})
    assert topological_order(defn) == ["z", "y", "x"]


def test_failure_skips_on_success_and_runs_on_failure_and_always() -> None:
    defn = flow(
        {"name": "build"},
        {"name": "deploy"},
        {"name": "smoke"},
        {"name": "cleanup", "when": "on_failure"},
        {"name": "notify", "when": "always"},
    )
    run = Run(defn)
    run.step()
    decisions = run.finish("build", "failed")
    assert decisions.to_skip == {"deploy": "dependency 'build' failed", "smoke": "step 'build' failed"}
    assert decisions.to_run == ["cleanup", "notify"]
    assert run.finish("cleanup").finished is False
    final = run.finish("notify")
    assert (final.finished, final.outcome) == (True, "failed")


def test_failure_in_a_parallel_branch_skips_pending_work_elsewhere() -> None:
    defn = flow(
        {"name": "a", "parallel": True}, {"name": "b", "parallel": True}, {"name": "c", "depends_on": ("b",)}
    )
    run = Run(defn)
    run.step()
    decisions = run.finish("a", "failed")
    assert decisions.to_skip == {"c": "step 'a' failed"}
    assert not decisions.finished  # b is still running
    assert run.finish("b").outcome == "failed"


def test_on_failure_step_waits_then_is_skipped_when_nothing_failed() -> None:
    defn = flow({"name": "a"}, {"name": "cleanup", "when": "on_failure"}, {"name": "b"}, {"name": "c"})
    assert effective_dependencies(defn)["b"] == ("a",)  # the clean-up step does not block the chain
    run = Run(defn)
    run.step()
    assert run.finish("a").to_run == ["b"]
    assert run.status["cleanup"] == "pending"
    assert run.finish("b").to_run == ["c"]
    final = run.finish("c")
    assert final.to_skip == {"cleanup": NO_FAILURE_REASON}
    assert (final.finished, final.outcome) == (True, "completed")


def test_steps_after_a_skipped_on_failure_step_still_run() -> None:
    defn = flow(
        {"name": "a"},
        {"name": "rollback", "when": "on_failure"},
        {"name": "report", "depends_on": ("rollback",)},
        {"name": "final", "when": "always", "depends_on": ("rollback",)},
    )
    run = Run(defn)
    run.step()
    decisions = run.finish("a")
    assert decisions.to_skip == {"rollback": NO_FAILURE_REASON}
    assert decisions.to_run == ["report", "final"]


def test_always_steps_run_on_success_too() -> None:
    run = Run(flow({"name": "a"}, {"name": "notify", "when": "always"}))
    run.step()
    assert run.finish("a").to_run == ["notify"]


def test_manual_gate_waits_for_approval() -> None:
    defn = flow({"name": "staging"}, {"name": "approve", "when": "manual"}, {"name": "prod"})
    run = Run(defn)
    run.step()
    decisions = run.finish("staging")
    assert (decisions.to_wait, decisions.to_run) == (["approve"], [])
    assert run.step() == Decisions()  # still waiting: nothing to do, not finished
    assert run.finish("approve").to_run == ["prod"]


def test_rejected_approval_fails_the_workflow() -> None:
    run = Run(
        flow(
            {"name": "approve", "when": "manual"}, {"name": "prod"}, {"name": "notify", "when": "on_failure"}
        )
    )
    run.step()
    decisions = run.finish("approve", "failed")
    assert decisions.to_skip == {"prod": "dependency 'approve' failed"}
    assert decisions.to_run == ["notify"]


def test_waiting_gate_is_skipped_when_another_branch_fails() -> None:
    defn = flow({"name": "gate", "when": "manual", "parallel": True}, {"name": "work", "parallel": True})
    run = Run(defn)
    first = run.step()
    assert (first.to_wait, first.to_run) == (["gate"], ["work"])
    decisions = run.finish("work", "failed")
    assert decisions.to_skip == {"gate": "step 'work' failed"}
    assert decisions.outcome == "failed"


def test_if_and_unless_skip_with_reasons_and_count_as_satisfied() -> None:
    defn = flow(
        {"name": "prod-only", "if_expr": "parameters.env == 'prod'"},
        {"name": "not-dev", "unless_expr": "parameters.env == 'dev'"},
        {"name": "after"},
    )
    decisions = decide(defn, {}, {"parameters": {"env": "dev"}})
    assert decisions.to_skip == {
        "prod-only": "condition `parameters.env == 'prod'` was false",
        "not-dev": "unless-condition `parameters.env == 'dev'` was true",
    }
    assert decisions.to_run == ["after"]  # skipped-by-condition dependencies are satisfied
    decisions = decide(defn, {}, {"parameters": {"env": "prod"}})
    assert decisions.to_run == ["prod-only"]


def test_conditions_see_live_step_statuses_and_outputs() -> None:
    defn = flow(
        {"name": "probe", "continue_on_error": True},
        {"name": "heal", "if_expr": "steps.probe.status == 'failed'"},
        {"name": "use", "if_expr": "steps.probe.outputs.ready == 'yes'"},
    )
    run = Run(defn, {"steps": {"probe": {"outputs": {"ready": "yes"}}}})
    run.step()
    assert run.finish("probe", "failed").to_run == ["heal"]
    assert run.finish("heal").to_run == ["use"]
    assert run.finish("use").outcome == "completed"  # the tolerated failure does not fail the run


def test_condition_errors_fail_the_step_with_an_explanation() -> None:
    run = Run(
        flow(
            {"name": "a", "if_expr": "parameters.missing == 1"},
            {"name": "b"},
            {"name": "c", "when": "always"},
        )
    )
    decisions = run.step()
    assert "unknown name 'parameters.missing'" in decisions.to_fail["a"]
    assert decisions.to_skip == {"b": "dependency 'a' failed"}
    assert decisions.to_run == ["c"]


def test_condition_error_on_a_tolerant_step_does_not_fail_the_run() -> None:
    run = Run(flow({"name": "a", "if_expr": "nope", "continue_on_error": True}, {"name": "b"}))
    decisions = run.step()
    assert list(decisions.to_fail) == ["a"] and decisions.to_run == ["b"]


def test_continue_on_error_from_the_runtime_state() -> None:
    defn = flow({"name": "a"}, {"name": "b"})
    decisions = decide(defn, {"a": StepState("failed", continue_on_error_failed=True)})
    assert decisions.to_run == ["b"]
    assert decide(defn, {"a": StepState("failed", True), "b": StepState("completed")}).outcome == "completed"


def test_cancellation() -> None:
    defn = flow({"name": "a", "parallel": True}, {"name": "b", "parallel": True}, {"name": "c"})
    decisions = decide(defn, states(a="cancelled", b="running"))
    assert decisions == Decisions()  # nothing new starts; b may still finish
    decisions = decide(defn, states(a="cancelled", b="completed"))
    assert (decisions.finished, decisions.outcome, decisions.to_run) == (True, "cancelled", [])


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown status"):
        decide(flow({"name": "a"}), states(a="done"))


def test_cascade_is_resolved_in_one_call() -> None:
    defn = flow(
        {"name": "a"},
        {"name": "b"},
        {"name": "c", "when": "on_failure", "depends_on": ("b",)},
        {"name": "d", "when": "always", "depends_on": ("c",)},
    )
    decisions = decide(defn, states(a="failed"))
    assert decisions.to_skip == {"b": "dependency 'a' failed"}
    assert decisions.to_run == ["c"]


def test_decide_is_cheap_for_large_workflows(load: Load) -> None:
    steps = [{"name": f"s{i}", "type": "noop"} for i in range(500)]
    defn = load({"metadata": {"name": "big"}, "steps": steps})
    run = Run(defn)
    started = time.perf_counter()
    run.step()
    for i in range(500):
        run.finish(f"s{i}")
    assert run.last.outcome == "completed"
    assert time.perf_counter() - started < 5
