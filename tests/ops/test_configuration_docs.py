"""docs/configuration.md documents every environment variable settings.py and gunicorn_conf.py read."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = [
    "innominatus/settings.py",
    "innominatus/gunicorn_conf.py",
    "innominatus/metricsdir.py",
    "innominatus/kube_secret.py",
]
READERS = re.compile(
    r"""(?:env\.(?:str|bool|int|float|list|choice|raw|rate|networks)\(|environ\.get\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def variables() -> set[str]:
    found = set()
    for source in SOURCES:
        found.update(READERS.findall((REPO / source).read_text()))
    found.add("PROMETHEUS_MULTIPROC_DIR")  # read through metricsdir.VARIABLE
    return found


def test_every_variable_is_documented_once() -> None:
    document = (REPO / "docs" / "configuration.md").read_text()
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", document, flags=re.MULTILINE)
    assert len(rows) == len(set(rows)), "a variable is documented twice"
    read = variables()
    assert {"DB_PASSWORD_SECRET", "LOG_FORMAT", "PUSHGATEWAY_URL", "GUNICORN_WORKERS"} <= read
    assert sorted(read - set(rows)) == []
