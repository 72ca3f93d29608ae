"""Drop indexes that another index already covers: each costs every write to its table.

Only the state of the altered fields changes through AlterField: letting Django apply them would drop
and re-add (and so re-validate over whole tables) the foreign keys, where dropping the indexes is all
that is needed.
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, column, is text) of each dropped single-column index; PostgreSQL also has a `_like` index on text.
DROPPED = [
    ("workflow_step_executions", "execution_id", True),
    ("workflow_step_logs", "execution_id", True),
    ("workflow_step_logs", "step_id", False),
    ("workflow_executions", "app_name", True),
    ("workflow_executions", "team_id", False),
    ("workflow_executions", "workflow_name", True),
]


def _index_names(schema_editor, table, column, text):
    name = schema_editor._create_index_name(table, [column])
    return [name, f"{name}_like"] if text and schema_editor.connection.vendor == "postgresql" else [name]


def drop_indexes(apps, schema_editor):
    for table, column, text in DROPPED:
        for name in _index_names(schema_editor, table, column, text):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def restore_indexes(apps, schema_editor):
    for table, column, text in DROPPED:
        plain, *like = _index_names(schema_editor, table, column, text)
        quote = schema_editor.quote_name
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(plain)} ON {quote(table)} ({quote(column)})")
        for name in like:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)} varchar_pattern_ops)"
            )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_cache_table'),
        ('workflows', '0004_step_order_without_join'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='steplog',
            name='steplog_created',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='stepexecution',
                    name='execution',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='workflows.workflowexecution'),
                ),
                migrations.AlterField(
                    model_name='steplog',
                    name='execution',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='logs', to='workflows.workflowexecution'),
                ),
                migrations.AlterField(
                    model_name='steplog',
                    name='step',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='logs', to='workflows.stepexecution'),
                ),
                migrations.AlterField(
                    model_name='workflowexecution',
                    name='app_name',
                    field=models.CharField(max_length=253),
                ),
                migrations.AlterField(
                    model_name='workflowexecution',
                    name='team',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='accounts.team'),
                ),
                migrations.AlterField(
                    model_name='workflowexecution',
                    name='workflow_name',
                    field=models.CharField(max_length=200),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, restore_indexes)],
        ),
    ]
