"""A database default for the execution outcome, so rows written in SQL (bulk loads, restores of
older dumps) are valid.

SQLite alters a column by rebuilding the table, which fails while the event triggers of other tables
name it: the triggers are dropped around the change and installed again (as after every migrate).
"""

from typing import Any

from django.db import migrations, models

from workflows.events import triggers


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    triggers.uninstall(schema_editor.connection)


def install_triggers(apps: Any, schema_editor: Any) -> None:
    triggers.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0013_event_triggers"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, install_triggers),
        migrations.AlterField(
            model_name="workflowexecution",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("in_progress", "in progress"),
                    ("waiting_for_approval", "waiting for approval"),
                    ("applied", "applied"),
                    ("rendered_only", "rendered only, nothing applied"),
                    ("completed", "completed (no cluster changes)"),
                    ("failed", "failed"),
                    ("cancelled", "cancelled"),
                ],
                db_default="in_progress",
                default="in_progress",
                max_length=24,
            ),
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]
