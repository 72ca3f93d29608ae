"""A local installation's manage.py commands find the key scripts/run.sh keeps in the data directory."""

from pathlib import Path

import pytest

from tests.ops.servers import subprocess_env

pytestmark = pytest.mark.e2e


def settings_key(env: dict[str, str]) -> tuple[int, str, str]:
    import subprocess

    from tests.ops.servers import REPO, VENV_BIN

    result = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout.strip(), result.stderr


def test_secret_key_comes_from_the_data_directory_when_unset(tmp_path: Path) -> None:
    env = subprocess_env(INNOMINATUS_DATA_DIR=tmp_path, PROMETHEUS_MULTIPROC_DIR="")
    del env["SECRET_KEY"]
    env.pop("DEBUG", None)
    code, _, stderr = settings_key(env)
    assert code != 0 and "SECRET_KEY must be set" in stderr and str(tmp_path / "secret_key") in stderr

    (tmp_path / "secret_key").write_text("from-the-data-directory-0123456789\n")
    assert settings_key(env)[:2] == (0, "from-the-data-directory-0123456789")
    assert settings_key({**env, "SECRET_KEY": "from-the-environment"})[:2] == (0, "from-the-environment")
