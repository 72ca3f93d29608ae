"""The one way to send work to django-q2: after the surrounding transaction commits."""

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task_path: str, *args: Any, group: str | None = None) -> None:
    """Send `task_path(*args)` to the workers once the current transaction commits.

    Arguments must survive a JSON round trip (ids, not model instances).
    """

    def send() -> None:
        from django.conf import settings
        from django_q.tasks import async_task

        # Read at send time (not django-q2's import-time copy) so tests can switch sync mode per test.
        options: dict[str, Any] = {"save": False, "sync": bool(settings.Q_CLUSTER.get("sync"))}
        if group:
            options["group"] = group
        async_task(task_path, *args, q_options=options)

    transaction.on_commit(send)
