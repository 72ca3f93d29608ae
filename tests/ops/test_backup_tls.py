"""Backup and restore against a PostgreSQL that only speaks TLS with client certificates: a CA, server
and client certificates made by openssl here, sslmode verify-full, backup -> drop -> restore."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.ops.servers import TempPostgres, free_port, manage, subprocess_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
]

DATABASE = "idp_tls"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(directory: Path) -> None:
    """ca.crt signs server.crt (127.0.0.1 and localhost) and client.crt (CN=postgres, for cert auth)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=directory)  # fmt: skip
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, subject, extensions in (
        ("server", "/CN=127.0.0.1", ["-extfile", "server.ext"]),
        ("client", "/CN=postgres", []),
    ):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=directory)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *extensions, cwd=directory)  # fmt: skip
        (directory / f"{name}.key").chmod(0o600)


@pytest.fixture
def tls_postgres(tmp_path: Path) -> Iterator[dict[str, Any]]:
    pg = TempPostgres(free_port())
    certs = tmp_path / "certs"
    certs.mkdir()
    make_certificates(certs)
    try:
        for name in ("ca.crt", "server.crt", "server.key"):
            target = pg.data / name
            shutil.copy(certs / name, target)
            if os.geteuid() == 0:
                shutil.chown(target, "postgres", "postgres")
        with (pg.data / "postgresql.conf").open("a") as conf:
            conf.write("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
            conf.write("ssl_ca_file = 'ca.crt'\n")
        # TCP only with TLS and a client certificate signed by the CA; plain TCP is refused.
        (pg.data / "pg_hba.conf").write_text(
            "local all all trust\nhostssl all all 127.0.0.1/32 cert\nhostnossl all all 127.0.0.1/32 reject\n"
        )
        pg.start()
        tls = {
            "sslmode": "verify-full",
            "sslrootcert": str(certs / "ca.crt"),
            "sslcert": str(certs / "client.crt"),
            "sslkey": str(certs / "client.key"),
        }
        server = f"host=127.0.0.1 port={pg.port} user=postgres " + " ".join(
            f"{k}={v}" for k, v in tls.items()
        )
        with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        env = subprocess_env(
            DB_HOST="127.0.0.1",
            DB_PORT=pg.port,
            DB_USER="postgres",
            DB_NAME=DATABASE,
            DB_SSLMODE="verify-full",
            DB_SSLROOTCERT=tls["sslrootcert"],
            DB_SSLCERT=tls["sslcert"],
            DB_SSLKEY=tls["sslkey"],
            PROMETHEUS_MULTIPROC_DIR="",
            # libpq's own defaults must not help: no ~/.postgresql/root.crt, no PG* variables.
            HOME=str(tmp_path / "home"),
        )
        for key in [key for key in env if key.startswith("PG")]:
            env.pop(key)
        yield {"pg": pg, "server": server, "env": env}
    finally:
        pg.destroy()


def test_verify_full_backup_drop_restore(tls_postgres: dict[str, Any], tmp_path: Path) -> None:
    pg, server, env = tls_postgres["pg"], tls_postgres["server"], tls_postgres["env"]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres sslmode=disable"
        ).close()

    manage("migrate", "--noinput", env=env)
    manage("createsuperuser", "--noinput", "--username", "tls-admin", "--email", "t@example.com",
           env={**env, "DJANGO_SUPERUSER_PASSWORD": "pw-tls-123"})  # fmt: skip
    with psycopg.connect(f"{server} dbname={DATABASE}") as conn:
        (ssl_in_use,) = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        assert ssl_in_use is True

    manage("backup", "--output-dir", str(tmp_path / "dumps"), env=env)
    (dump,) = (tmp_path / "dumps").iterdir()
    assert dump.read_bytes().startswith(b"PGDMP")

    with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')

    output = manage("restore", str(dump), "--yes", env=env).stdout
    assert "restored" in output
    with psycopg.connect(f"{server} dbname={DATABASE}") as conn:
        users = conn.execute("SELECT username FROM auth_user").fetchall()
    assert users == [("tls-admin",)]
