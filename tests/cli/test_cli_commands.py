"""The everyday commands end to end: revisions, diff, rollback, inspection, catalogue, completion."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli, show
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

HELLO = (ROOT / "tests" / "data" / "score" / "compose-01-hello-score.yaml").read_text()


def test_revisions_rollback_and_inspection(
    platform: Callable[..., Cli], make_user: Any, tmp_path: Path
) -> None:
    make_user("dev", team="team-a")
    cli = platform()
    cli.login()
    first, second = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    first.write_text(HELLO)
    second.write_text(HELLO.replace("image: busybox", "image: busybox:1.36"))
    assert cli.run("deploy", str(first), "--wait").returncode == 0
    changed = cli.run("deploy", str(second), "--wait", "-m", "pin busybox")
    assert changed.returncode == 0, show(changed)

    diff = cli.run("apps", "diff", "hello-world")
    assert diff.returncode == 0, show(diff)
    assert "-" in diff.stdout and "busybox:1.36" in diff.stdout
    back = cli.run("apps", "rollback", "hello-world", "--to", "1", "--wait")
    assert back.returncode == 0, show(back)
    app = json.loads(cli.run("apps", "show", "hello-world", "-o", "json").stdout)
    assert app["current_revision"]["number"] == 3 and app["current_revision"]["rolled_back_from"] == 1
    assert app["spec"]["containers"]["hello"]["image"] == "busybox"
    shown = cli.run("apps", "show", "hello-world")
    assert "hello-world" in shown.stdout and "Spec:" in shown.stdout, show(shown)

    runs = json.loads(cli.run("workflows", "list", "--app", "hello-world", "-o", "yaml", "-o", "json").stdout)
    assert len(runs) == 3 and {run["status"] for run in runs} == {"completed"}
    detail = cli.run("workflows", "show", runs[0]["id"])
    assert detail.returncode == 0 and "Steps" in detail.stdout, show(detail)
    logs = cli.run("workflows", "logs", runs[0]["id"])
    assert logs.returncode == 0 and logs.stdout.strip(), show(logs)
    again = cli.run("workflows", "retry", runs[0]["id"])
    assert again.returncode == 3 and "Traceback" not in again.stderr, show(again)

    for args in (
        ("resources", "list"),
        ("providers", "list"),
        ("stats",),
        ("golden-paths", "show", "deploy-app"),
    ):
        result = cli.run(*args)
        assert result.returncode == 0, show(result)
    assert "Parameters" in cli.run("golden-paths", "show", "deploy-app").stdout
    stats = json.loads(cli.run("stats", "-o", "json").stdout)
    assert stats["applications"] == 1
    yaml_manifests = cli.run("apps", "manifests", "hello-world", "--revision", "2")
    assert "busybox:1.36" in yaml_manifests.stdout, show(yaml_manifests)

    graph = cli.run("graph", "hello-world", "--format", "dot")
    # The graph export is another part of the API: either it answers DOT, or the CLI says it is missing.
    assert graph.returncode in (0, 3), show(graph)
    assert ("digraph" in graph.stdout) if graph.returncode == 0 else ("graph export" in graph.stderr)

    deleted = cli.run("apps", "delete", "hello-world", "--yes")
    assert deleted.returncode == 0, show(deleted)


def test_completion_scripts_and_offline_provider_validation(
    platform: Callable[..., Cli], tmp_path: Path
) -> None:
    cli = platform()
    for shell, marker in (("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete --no-files")):
        result = cli.run("completion", shell)
        assert result.returncode == 0 and marker in result.stdout, show(result)
    builtin = ROOT / "workflows" / "providers" / "builtin"
    provider_dir = next(path.parent for path in sorted(builtin.glob("*/provider.yaml")))
    ok = cli.run("providers", "validate", str(provider_dir))
    assert ok.returncode == 0 and "✓" in ok.stdout, show(ok)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "provider.yaml").write_text("apiVersion: v1\nkind: Provider\nmetadata: {name: broken}\n")
    bad = cli.run("providers", "validate", str(broken))
    assert bad.returncode == 1 and "broken" in bad.stderr and "Traceback" not in bad.stderr, show(bad)
