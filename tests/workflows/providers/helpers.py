"""Write provider directories for tests."""

from __future__ import annotations

from pathlib import Path

WORKFLOW = """
metadata: {{name: {name}}}
parameters:
  - {{name: object_name, type: string, required: true}}
steps:
  - name: say
    type: noop
    config:
      message: "{name} {{{{ parameters.object_name }}}}"
      outputs: {{host: "{{{{ parameters.object_name }}}}.example"}}
outputs:
  host: "{{{{ steps.say.outputs.host }}}}"
"""


def write_provider(
    root: Path,
    name: str,
    types: list[str],
    *,
    extra: str = "",
    workflow_text: str | None = None,
    capabilities: str = "",
) -> Path:
    """A provider with create/delete workflows tagged with its types."""
    directory = root / name
    (directory / "workflows").mkdir(parents=True)
    tag = ", ".join(types)
    (directory / "provider.yaml").write_text(
        f"""
apiVersion: v1
kind: Provider
metadata: {{name: {name}, version: 1.2.3, description: test provider}}
compatibility: {{minCoreVersion: 1.0.0, maxCoreVersion: 2.0.0}}
capabilities:
  resourceTypes: {types}
{capabilities}
workflows:
  - {{name: {name}-create, file: ./workflows/create.yaml, category: provisioner, operation: create, tags: [{tag}]}}
  - {{name: {name}-delete, file: ./workflows/delete.yaml, category: provisioner, operation: delete, tags: [{tag}]}}
{extra}
"""
    )
    (directory / "workflows" / "create.yaml").write_text(
        workflow_text or WORKFLOW.format(name=f"{name}-create")
    )
    (directory / "workflows" / "delete.yaml").write_text(WORKFLOW.format(name=f"{name}-delete"))
    return directory
