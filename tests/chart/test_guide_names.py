"""The operations guide names what the chart renders: the HPA, and its database page exists."""

from __future__ import annotations

import re
from typing import Any

from tests.chart.conftest import REPO_ROOT


def test_the_guides_hpa_command_names_the_rendered_hpa(chart: Any) -> None:
    guide = (REPO_ROOT / "docs" / "operations.md").read_text()
    named = set(re.findall(r"kubectl -n \$NS get hpa (\S+)", guide))
    assert named == {"innominatus-hpa"}
    hpas = [m["metadata"]["name"] for m in chart.render() if m["kind"] == "HorizontalPodAutoscaler"]
    assert hpas == ["innominatus-hpa"]


def test_every_local_link_of_the_docs_resolves() -> None:
    for page in [*(REPO_ROOT / "docs").glob("*.md"), REPO_ROOT / "README.md"]:
        for target in re.findall(r"\]\(([^)#:\s]+\.md)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} links {target}, which does not exist"
