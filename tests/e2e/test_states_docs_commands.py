"""Every `manage.py` command the README and docs/ mention exists and works on a fresh local install.

The install is what `scripts/run.sh` makes: a data directory with the generated `secret_key`, the embedded
SQLite database, and a shell with no SECRET_KEY or DB_* variables. Each documented command answers
`--help`; the ones that are safe to run here run for real, as the docs write them.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MENTION = re.compile(r"manage\.py ([a-z_]+)(?: ([a-z_]+))?")
# Words that follow "manage.py" in prose, not commands.
PROSE = {"commands", "command"}
# Run for real, in this order, as the docs write them ({data} is the install's data directory).
SAFE = (
    ("migrate", "--noinput"),
    ("check",),
    ("showmigrations", "--plan"),
    ("cleanup", "--dry-run"),
    ("workflows", "stuck"),
    ("reencrypt_secrets", "--dry-run"),
    ("backup", "--output-dir", "{data}/backups"),
)


def documented() -> list[tuple[str, ...]]:
    """(command,) or (group, subcommand) for every `manage.py …` in the docs."""
    found: set[tuple[str, ...]] = set()
    for path in DOCS:
        for command, sub in MENTION.findall(path.read_text()):
            if command in PROSE:
                continue
            # `workflows` is a group: its subcommand is part of the command.
            found.add((command, sub) if command == "workflows" and sub else (command,))
    return sorted(found)


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    data = tmp_path_factory.mktemp("install") / "data"
    data.mkdir()
    # What run.sh writes on its first start.
    (data / "secret_key").write_text(secrets.token_urlsafe(50) + "\n")
    (data / "secret_key").chmod(0o600)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "PYTEST", "KUBECONFIG", "KUBERNETES_", "Q_", "SECRET_KEY", "DEBUG"))
    }
    env.update({"INNOMINATUS_DATA_DIR": str(data), "PROMETHEUS_MULTIPROC_DIR": ""})
    return env, data


def manage(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_docs_mention_the_commands_people_need() -> None:
    commands = {command[0] for command in documented()}
    assert {"backup", "restore", "cleanup", "workflows", "worker", "migrate"} <= commands, commands


@pytest.mark.parametrize("command", documented(), ids=" ".join)
def test_every_documented_command_answers_help(
    install: tuple[dict[str, str], Path], command: tuple[str, ...]
) -> None:
    env, _ = install
    result = manage(env, *command, "--help")
    assert result.returncode == 0, f"manage.py {' '.join(command)} --help:\n{result.stdout}\n{result.stderr}"
    assert "SECRET_KEY" not in result.stderr
    assert "usage:" in result.stdout.lower()


def test_the_safe_documented_commands_run_on_a_fresh_install(install: tuple[dict[str, str], Path]) -> None:
    env, data = install
    mentioned = {command[0] for command in documented()}
    for command in SAFE:
        assert command[0] in mentioned, f"{command[0]} is no longer in the docs: update SAFE"
        argv = [part.format(data=data) for part in command]
        result = manage(env, *argv)
        assert result.returncode == 0, f"manage.py {' '.join(argv)}:\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
    dumps = sorted(path.name for path in (data / "backups").iterdir())
    # The name the operations guide uses in its `kubectl cp` lines.
    assert len(dumps) == 1 and re.fullmatch(r"backup-\d{8}-\d{6}\.dump", dumps[0]), dumps
