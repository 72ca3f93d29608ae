"""Rendering helpers: step graph (Graphviz), Gantt, hourly chart, highlighting and side-by-side diffs."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from portal.charts import HourBucket, render_hourly_chart
from portal.diffview import side_by_side
from portal.graph import render_gantt, render_step_graph
from portal.highlight import annotate, highlight_lines
from portal.timefmt import format_seconds
from workflows.score import ScoreProblem

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Step:
    name: str
    status: str = "completed"
    step_type: str = "noop"
    position: int = 0
    depends_on: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    completed_at: datetime | None = None


def diamond() -> list[Step]:
    start = NOW - timedelta(seconds=60)
    return [
        Step("build", position=0, started_at=start, completed_at=start + timedelta(seconds=10)),
        Step("test-a", "running", position=1, depends_on=["build"], started_at=start + timedelta(seconds=10)),
        Step(
            "test-b",
            "failed",
            position=2,
            depends_on=["build"],
            started_at=start + timedelta(seconds=10),
            completed_at=start + timedelta(seconds=40),
        ),
        Step("ship", "pending", position=3, depends_on=["test-a", "test-b"]),
    ]


def test_graph_is_laid_out_by_graphviz_with_links_statuses_and_an_accessible_name() -> None:
    svg = str(render_step_graph(diamond(), title="Steps of wf-1"))
    assert svg.startswith(
        '<svg class="step-graph" role="img" aria-label="Steps of wf-1: 4 steps, 1 completed'
    )
    assert svg.count('class="node graph-node') == 4
    assert svg.count('class="edge"') == 4
    assert 'data-node="test-b" data-kind="noop" data-status="failed"' in svg
    assert 'stroke="#cf222e"' in svg  # failed is red
    assert "stroke-dasharray" in svg  # pending is dashed
    assert 'href="#step-ship"' in svg


def test_graph_escapes_step_names() -> None:
    svg = str(render_step_graph([Step('<script>"x"</script>')]))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert str(render_step_graph([])) == ""


def test_gantt_bars_are_proportional_to_durations() -> None:
    svg = str(render_gantt(diamond(), now=NOW))
    assert svg.count('class="gantt-bar"') == 3  # the pending step has no bar
    assert ">pending</text>" in svg
    assert "<title>build: completed, 10s</title>" in svg
    assert "<title>test-a: running, 50s</title>" in svg
    assert str(render_gantt([Step("x", "pending")], now=NOW)) == ""


def test_hourly_chart_stacks_outcomes() -> None:
    buckets = [HourBucket(start=NOW - timedelta(hours=23 - i)) for i in range(24)]
    buckets[-1] = HourBucket(start=NOW, completed=3, failed=1)
    svg = str(render_hourly_chart(buckets))
    assert svg.count('data-series="completed"') == 1 and svg.count('data-series="failed"') == 1
    assert "<title>12:00: 4 executions (3 completed, 1 failed)</title>" in svg
    assert "4 executions in the last 24 hours" in svg


def test_highlight_keeps_line_numbers_and_escapes() -> None:
    text = "\n# leading blank line above\nname: <b>\ndesc: |\n  one\n  two\n"
    lines = highlight_lines(text)
    assert len(lines) == text.count("\n")
    assert "&lt;b&gt;" in lines[2]
    assert '<span class="nt">name</span>' in lines[2]


def test_annotate_attaches_problems_to_their_lines() -> None:
    placed = ScoreProblem(pointer="/a", path="a", message="bad", code="x", line=2)
    floating = ScoreProblem(pointer="", path="", message="whole document", code="y", line=None)
    lines, unplaced = annotate("a: 1\nb: 2\n", [placed, floating])
    assert lines[1].problems == [placed]
    assert unplaced == [floating]


def test_side_by_side_pairs_changes_and_folds_unchanged_runs() -> None:
    old = "\n".join(f"line {i}" for i in range(20))
    new = old.replace("line 2", "LINE 2").replace("line 17", "line 17\nextra")
    rows = side_by_side(old, new, context=2)
    kinds = [row.kind for row in rows]
    assert "skip" in kinds
    replaced = next(row for row in rows if row.kind == "replace")
    assert (replaced.old_number, replaced.old_text, replaced.new_text) == (3, "line 2", "LINE 2")
    inserted = next(row for row in rows if row.kind == "insert")
    assert (inserted.old_number, inserted.new_number, inserted.new_text) == (None, 19, "extra")


def test_durations_read_naturally() -> None:
    assert [format_seconds(s) for s in (None, 0.42, 12, 65, 3725, 90000)] == [
        "—",
        "0.4s",
        "12s",
        "1m 05s",
        "1h 02m",
        "1d 1h",
    ]
