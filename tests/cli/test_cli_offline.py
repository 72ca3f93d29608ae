"""`validate` and `render` offline agree with the server's dry run, sample by sample.

The server side is the real API (`POST /api/applications?dry_run=true`); the CLI side runs in-process
through click (fast enough for every sample) and, in the last test, as a subprocess without Django
settings or a database, to show that offline really means offline.
"""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rest_framework.test import APIClient

from innominatus.cli.main import cli
from tests.e2e.conftest import ROOT
from workflows.score.manifests import mask_secrets

SHARED = Path("/work/shared")
SOURCES = [SHARED / "score" / "samples", ROOT / "tests" / "data" / "score", SHARED / "original-innominatus"]


def _samples() -> list[Path]:
    found: list[Path] = []
    for source in SOURCES:
        if not source.is_dir():
            continue
        for path in sorted(source.rglob("*.yaml")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if "score.dev/v1b1" in text:
                found.append(path)
    return found


SAMPLES = _samples()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "innominatus.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_inline(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# Problem codes the server finds beyond the spec's ingest: its deploy forecast
# (workflows/services/forecast.py, previews.py) and the checks of the spec's `workflows:` section
# (workflows/services/score_workflows.py), which need the server's providers and step types.
FORECAST_CODES = frozenset(
    {
        "placeholder-unresolvable",
        "provider-missing",
        "provider-workflow-missing",
        "provider-parameter",
        "provider-check-failed",
        "render-failed",
        "manifest-invalid",
        "wrong-type",
        "invalid-workflow",
        "invalid-step-config",
        "not-supported",
        "reserved-step-name",
        "duplicate-step-name",
    }
)


def _problems(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((p["path"], p.get("line"), p["message"], p["code"]) for p in items)


def test_there_are_samples_to_compare() -> None:
    assert len(SAMPLES) >= 15, SAMPLES


@pytest.mark.django_db
@pytest.mark.parametrize("sample", SAMPLES, ids=[f"{p.parent.name}/{p.name}" for p in SAMPLES])
def test_offline_validate_and_render_agree_with_the_server_dry_run(sample: Path, api: APIClient) -> None:
    answer = api.post(
        "/api/applications?dry_run=true",
        sample.read_bytes(),
        content_type="application/yaml",
    )
    checked = run_inline("validate", str(sample), "--format", "json")
    assert not checked.stderr, checked.stderr
    offline = json.loads(checked.stdout)
    if answer.status_code == 400 and answer.json().get("errors"):
        server = set(_problems(answer.json()["errors"]))
        local = set(_problems(offline.get("problems") or []))
        # Offline validation is the server's own ingest: every problem it finds, the server finds too.
        assert local <= server, (local, server)
        forecast = server - local
        # The rest the server found by forecasting the deploy (provider parameters and checks, the
        # outputs each resource will have, the spec's workflows), which needs the server's providers and
        # state: those specs are invalid offline only when ingest already says so.
        assert all(code in FORECAST_CODES for *_, code in forecast), forecast
        assert checked.exit_code == (1 if local else 0)
        assert offline["valid"] is not bool(local)
        return
    assert checked.exit_code == 0, checked.stdout
    assert offline["valid"]
    if answer.status_code != 200:
        # Refused for a reason only the server knows (a reserved name, the tenancy policy): the spec
        # itself is valid, which is all offline validation claims.
        pytest.skip(
            f"server refused for a server-side reason: {answer.status_code} {answer.json()['detail']}"
        )
    deployment = answer.json()["deployment"]
    rendered = run_inline("render", str(sample), "--team", "team-a", "-o", "json")
    if deployment["problems"]:
        assert rendered.exit_code == 1
        for problem in deployment["problems"]:
            assert problem in rendered.stderr
        return
    assert rendered.exit_code == 0, rendered.stderr
    _assert_agrees(mask_secrets(json.loads(rendered.stdout)), deployment["manifests"])


PENDING = re.compile(r"<pending:[^>]*>")
CONFIG_HASH = "innominatus.dev/config-hash"


def _assert_agrees(offline: Any, server: Any, where: str = "") -> None:
    """The same objects, keys and literal values. Where offline rendering says `<pending:resources.X>`
    the server's dry run forecasts the value from its providers (workflows/services/forecast.py):
    any value fits there, and the config hash, which hashes those values (Secrets' too, masked in both
    answers), differs."""
    if isinstance(offline, dict):
        assert isinstance(server, dict) and set(offline) == set(server), (where, offline, server)
        for key in offline:
            if key != CONFIG_HASH:
                _assert_agrees(offline[key], server[key], f"{where}.{key}")
    elif isinstance(offline, list):
        assert isinstance(server, list) and len(offline) == len(server), (where, offline, server)
        for index, (mine, theirs) in enumerate(zip(offline, server, strict=True)):
            _assert_agrees(mine, theirs, f"{where}[{index}]")
    elif isinstance(offline, str) and PENDING.search(offline):
        pattern = ".*".join(re.escape(part) for part in PENDING.split(offline))
        assert re.fullmatch(pattern, str(server), re.S), (where, offline, server)
    else:
        assert offline == server, (where, offline, server)


def test_validate_text_names_path_line_and_fix(tmp_path: Path) -> None:
    spec = tmp_path / "score.yaml"
    spec.write_text(
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: demo\ncontainers:\n  main:\n    image: nginx\n"
        "resources:\n  db:\n    type: postgress\n"
    )
    result = run_cli("validate", str(spec))
    assert result.returncode == 1
    assert f"{spec}:9: resources.db.type: unknown resource type 'postgress'" in result.stdout, result.stdout
    missing = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    ok = run_cli("render", str(ROOT / "tests" / "data" / "score" / "compose-01-hello-score.yaml"))
    assert ok.returncode == 0 and "kind: Deployment" in ok.stdout and "namespace: hello-world" in ok.stdout


def test_text_from_specs_and_servers_is_never_read_as_markup(tmp_path: Path) -> None:
    spec = tmp_path / "score.yaml"
    spec.write_text(
        "apiVersion: score.dev/v1b1\nmetadata: {name: '[bold]x[/bold]'}\ncontainers: {main: {image: nginx}}\n"
    )
    result = run_inline("validate", str(spec))
    assert result.exit_code == 1
    assert "(got '[bold]x[/bold]')" in result.stdout, result.stdout
