"""`login` / `whoami` / `logout`, the credentials file and the exit codes, against a real gunicorn."""

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from innominatus.accounts.models import ApiKey
from tests.cli.conftest import Cli, show
from tests.e2e.conftest import Processes, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(processes: Processes, tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(server=processes.gunicorn(workers=1), home=home)


def test_password_login_stores_a_0600_key_and_logout_revokes_it(cli: Cli, make_user: Any) -> None:
    make_user("dev", team="team-a")
    assert cli.run("whoami").returncode == 4
    result = cli.run("login", "-u", "dev", "--password-stdin", "--name", "laptop", stdin="pw-dev\n")
    assert result.returncode == 0, show(result)
    path = cli.home / "innominatus" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert stored["current"] == cli.server
    key = stored["servers"][cli.server]["token"]
    assert key.startswith("inn_") and "pw-dev" not in path.read_text()
    assert ApiKey.objects.get(user__username="dev").name == "laptop"

    who = cli.run("whoami", "-o", "json")
    assert who.returncode == 0, show(who)
    profile = json.loads(who.stdout)
    assert profile["username"] == "dev" and profile["teams"] == ["team-a"]
    assert profile["auth_method"] == "api_key"
    keys = cli.run("api-keys", "list")
    assert "laptop" in keys.stdout, show(keys)

    out = cli.run("logout")
    assert out.returncode == 0, show(out)
    assert ApiKey.objects.get(user__username="dev").revoked_at is not None
    assert cli.server not in json.loads(path.read_text())["servers"]
    assert cli.run("whoami").returncode == 4


def test_ci_token_from_the_environment_and_the_exit_codes(cli: Cli, make_user: Any, tmp_path: Path) -> None:
    make_user("dev", team="team-a")
    wrong = cli.run("login", "-u", "dev", "--password-stdin", stdin="nope\n")
    assert wrong.returncode == 4, show(wrong)
    assert "invalid username or password" in wrong.stderr and "Traceback" not in wrong.stderr
    assert cli.run("login", "-u", "dev", "--password-stdin", stdin="pw-dev\n").returncode == 0
    key = json.loads((cli.home / "innominatus" / "credentials.json").read_text())["servers"][cli.server][
        "token"
    ]

    ci = Cli(server=cli.server, home=tmp_path / "ci-home", extra_env={"INNOMINATUS_TOKEN": key})
    assert ci.run("whoami").returncode == 0
    # An API key cannot mint another key: a refusal, printed without a traceback.
    refused = ci.run("api-keys", "create", "more")
    assert refused.returncode == 3, show(refused)
    assert "API keys cannot create API keys" in refused.stderr
    # A field problem is printed as `path: message`.
    missing = ci.run("deploy", "--dry-run", "-", stdin="apiVersion: score.dev/v1b1\nmetadata: {name: x}\n")
    assert missing.returncode == 3, show(missing)
    assert "containers" in missing.stderr and "Traceback" not in missing.stderr
    gone = ci.run("apps", "show", "nothing-here")
    assert gone.returncode == 3 and "Traceback" not in gone.stderr, show(gone)

    bad = Cli(server=cli.server, home=tmp_path / "bad-home", extra_env={"INNOMINATUS_TOKEN": "inn_nonsense"})
    assert bad.run("apps", "list").returncode == 4
    nowhere = Cli(
        server=f"http://127.0.0.1:{free_port()}", home=tmp_path / "x", extra_env={"INNOMINATUS_TOKEN": key}
    )
    down = nowhere.run("apps", "list")
    assert down.returncode == 5, show(down)
    assert "cannot reach" in down.stderr
    usage = ci.run("deploy")
    assert usage.returncode == 2
