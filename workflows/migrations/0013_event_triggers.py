"""The triggers that write the event stream's rows (see workflows/events/triggers.py)."""

from typing import Any

from django.db import migrations

from workflows.events import triggers


def install(apps: Any, schema_editor: Any) -> None:
    triggers.install(schema_editor.connection)


def uninstall(apps: Any, schema_editor: Any) -> None:
    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0012_events_table"), ("accounts", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
