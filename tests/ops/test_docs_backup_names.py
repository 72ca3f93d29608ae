"""Every backup file name the docs show is one `manage.py backup` writes."""

import re
from pathlib import Path

from ops import backup

REPO = Path(__file__).resolve().parents[2]


def test_backup_names_in_the_docs_match_the_written_ones() -> None:
    pages = [*(REPO / "docs").glob("*.md"), REPO / "README.md"]
    names = {name for page in pages for name in re.findall(r"backup-[\w.$()%+-]*?\.dump", page.read_text())}
    assert names, "the docs name backup files"
    for name in names:
        if "YYYYMMDD" in name:
            assert name == "backup-YYYYMMDD-HHMMSS.dump", name
        elif "$" not in name:
            assert backup.NAME_PATTERN.match(name), name
    assert "backup-$(date +%Y%m%d).dump" not in names
