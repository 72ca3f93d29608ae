"""Property tests: decide() never contradicts itself and always drives a random DAG to a finish."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.engine import StepDefinition, StepState, WorkflowDefinition, decide, topological_order
from workflows.engine.planning import TERMINAL_STATUSES

WHENS = ["on_success", "on_success", "on_success", "on_failure", "always", "manual"]
CONDITIONS = [None, None, "parameters.flag", "not parameters.flag", "parameters.n > 2"]


@st.composite
def workflows(draw: st.DrawFn) -> WorkflowDefinition:
    count = draw(st.integers(min_value=1, max_value=10))
    steps = []
    for index in range(count):
        earlier = [f"s{i}" for i in range(index)]
        # Explicit dependencies only point backwards, so the graph is always acyclic.
        depends = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        group = draw(st.sampled_from([None, None, "1", "2"]))
        condition = draw(st.sampled_from(CONDITIONS))
        steps.append(
            StepDefinition(
                name=f"s{index}",
                type="noop",
                depends_on=tuple(depends) if draw(st.booleans()) else (),
                parallel=draw(st.booleans()),
                parallel_group=group,
                when=draw(st.sampled_from(WHENS)),
                if_expr=condition if draw(st.booleans()) else None,
                unless_expr=condition if draw(st.booleans()) else None,
                continue_on_error=draw(st.booleans()),
            )
        )
    return WorkflowDefinition(name="random", steps=tuple(steps))


def run_to_end(
    defn: WorkflowDefinition, data: st.DataObject, cancel: bool
) -> tuple[dict[str, str], str | None]:
    context: dict[str, Any] = {
        "parameters": {"flag": data.draw(st.booleans()), "n": data.draw(st.integers(0, 5))}
    }
    status = {step.name: "pending" for step in defn.steps}
    tolerated: set[str] = set()
    for _ in range(4 * len(status) + 4):
        decisions = decide(defn, {n: StepState(s, n in tolerated) for n, s in status.items()}, context)
        run, wait, skip, fail = (
            set(decisions.to_run),
            set(decisions.to_wait),
            set(decisions.to_skip),
            set(decisions.to_fail),
        )
        assert not run & skip and not wait & skip and not run & wait and not fail & (run | wait | skip)
        assert all(status[n] == "pending" for n in run | wait | fail)
        assert all(status[n] in ("pending", "waiting") for n in skip)
        assert all(decisions.to_skip[n] for n in skip)  # every skip says why
        for name in run:
            status[name] = "running"
        for name in wait:
            status[name] = "waiting"
        for name in skip:
            status[name] = "skipped"
        for name in fail:
            status[name] = "failed"
        if decisions.finished:
            # Once this call's decisions are applied, a finished run has nothing left to do.
            assert not run and not wait
            assert all(s in TERMINAL_STATUSES for s in status.values()) or decisions.outcome == "cancelled"
            return status, decisions.outcome
        active = sorted(n for n, s in status.items() if s in ("running", "waiting"))
        if not active:
            if all(s in TERMINAL_STATUSES for s in status.values()):
                continue  # the next decide() reports the finish
            raise AssertionError(f"stuck: nothing running and nothing to do: {status}")
        name = data.draw(st.sampled_from(active))
        outcomes = ["completed", "failed"] + (["cancelled"] if cancel else [])
        status[name] = data.draw(st.sampled_from(outcomes))
        if status[name] == "failed" and defn.steps[int(name[1:])].continue_on_error:
            tolerated.add(name)
    raise AssertionError(f"did not finish: {status}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(defn=workflows(), data=st.data())
def test_decide_is_consistent_and_always_terminates(defn: WorkflowDefinition, data: st.DataObject) -> None:
    topological_order(defn)
    status, outcome = run_to_end(defn, data, cancel=False)
    hard_failures = [
        n for n, s in status.items() if s == "failed" and not defn.steps[int(n[1:])].continue_on_error
    ]
    assert outcome == ("failed" if hard_failures else "completed")
    if not hard_failures:
        # Without failures, every on_success/always step either ran or was skipped by its own condition.
        for step in defn.steps:
            if status[step.name] == "skipped" and step.when in ("on_success", "always", "manual"):
                assert step.if_expr is not None or step.unless_expr is not None


@settings(max_examples=150, deadline=None)
@given(defn=workflows(), data=st.data())
def test_cancelled_runs_finish_as_cancelled(defn: WorkflowDefinition, data: st.DataObject) -> None:
    status, outcome = run_to_end(defn, data, cancel=True)
    if "cancelled" in status.values():
        assert outcome == "cancelled"
        assert "running" not in status.values()
