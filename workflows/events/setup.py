"""After `migrate`: the event triggers (re)installed and the retention schedule in place."""

from typing import Any

from django.db import connections

from workflows.events import triggers

PRUNE_SCHEDULE = "innominatus-events-prune"


def after_migrate(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """Idempotent: a table rebuilt by a later migration gets its triggers back."""
    connection = connections[using]
    if "workflow_events" not in connection.introspection.table_names():
        return  # migrated backwards past the events: nothing to install
    triggers.install(connection)
    from django_q.models import Schedule

    Schedule.objects.using(using).update_or_create(
        name=PRUNE_SCHEDULE,
        defaults={
            "func": "workflows.events.retention.prune_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": 10,
            "repeats": -1,
        },
    )
