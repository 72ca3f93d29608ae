"""Step indexes for steps in progress only: a step's row is rewritten several times in its life, and
finished steps, the bulk of the table, need not be in the status index.

The decided_by foreign key keeps its constraint; only its index changes (AlterField alone would drop
and re-add, and so re-validate, the constraint).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _decided_by_index(schema_editor):
    return schema_editor.quote_name(schema_editor._create_index_name("workflow_step_executions", ["decided_by_id"]))


def drop_decided_by_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {_decided_by_index(schema_editor)}")


def restore_decided_by_index(apps, schema_editor):
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS {_decided_by_index(schema_editor)} ON "workflow_step_executions" ("decided_by_id")'
    )


class Migration(migrations.Migration):

    dependencies = [
        ('workflows', '0005_indexes_without_duplicates'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='stepexecution',
            name='step_status_lease',
        ),
        migrations.RemoveIndex(
            model_name='stepexecution',
            name='step_type_status',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='stepexecution',
                    name='decided_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[migrations.RunPython(drop_decided_by_index, restore_decided_by_index)],
        ),
        migrations.AddIndex(
            model_name='stepexecution',
            index=models.Index(condition=models.Q(('status__in', ['pending', 'running', 'waiting'])), fields=['status', 'lease_expires_at'], name='step_active_status_lease'),
        ),
        migrations.AddIndex(
            model_name='stepexecution',
            index=models.Index(condition=models.Q(('decided_by__isnull', False)), fields=['decided_by'], name='step_decided_by'),
        ),
    ]
