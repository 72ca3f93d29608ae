"""Retention of executions in the database itself (PostgreSQL): batched DELETEs, no row loaded into Python.

Each batch is one statement: it locks up to `batch` old finished executions (SKIP LOCKED, so it never
waits for a writer and no writer waits long for it), deletes their log lines and steps, clears the
references other rows hold to them (retries' parent, environments: every SET_NULL relation of the
model, read from its metadata) and deletes them. Data-modifying CTEs run on one snapshot, so the
three deletes agree on the batch; foreign keys are deferred to the commit that follows. Afterwards
`VACUUM (ANALYZE)` of the tables it touched returns the space to the free-space map and keeps the
planner's statistics right for the lists that read those tables.
"""

# Table and column names come from the models (quoted by the backend); every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction

from workflows.choices import EXECUTION_TERMINAL_STATUSES
from workflows.models import StepExecution, StepLog, WorkflowExecution

logger = logging.getLogger(__name__)


@dataclass
class Deleted:
    executions: int = 0
    steps: int = 0
    logs: int = 0


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _statement() -> str:
    executions = _q(WorkflowExecution._meta.db_table)
    parts = [
        f"batch AS MATERIALIZED (SELECT id FROM {executions} WHERE status = ANY(%(statuses)s) "  # nosec B608 - table and column names from the models
        "AND created_at < %(cutoff)s AND completed_at < %(cutoff)s "
        "ORDER BY created_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED)",
        f"logs AS (DELETE FROM {_q(StepLog._meta.db_table)} AS t USING batch "  # nosec B608 - table and column names from the models
        "WHERE t.execution_id = batch.id RETURNING 1)",
        f"steps AS (DELETE FROM {_q(StepExecution._meta.db_table)} AS t USING batch "  # nosec B608 - table and column names from the models
        "WHERE t.execution_id = batch.id RETURNING 1)",
    ]
    for index, relation in enumerate(_relations()):
        if relation.on_delete is not models.SET_NULL:
            continue
        related: Any = relation.related_model
        table = _q(related._meta.db_table)
        column = _q(relation.field.column)
        keep = (
            " AND t.id NOT IN (SELECT id FROM batch)" if relation.related_model is WorkflowExecution else ""
        )
        parts.append(
            f"unref{index} AS (UPDATE {table} AS t SET {column} = NULL FROM batch "  # nosec B608 - table and column names from the models
            f"WHERE t.{column} = batch.id{keep} RETURNING 1)"
        )
    parts.append(f"gone AS (DELETE FROM {executions} AS t USING batch WHERE t.id = batch.id RETURNING 1)")  # nosec B608 - table and column names from the models
    return (
        "WITH "  # nosec B608 - table and column names from the models
        + ",\n".join(parts)
        + "\nSELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM steps), (SELECT count(*) FROM logs)"  # nosec B608 - table and column names from the models
    )


def _relations() -> list[Any]:
    """Every relation pointing at executions, those without a reverse accessor (related_name="+") too."""
    return [
        field
        for field in WorkflowExecution._meta.get_fields(include_hidden=True)
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one)
    ]


def supported() -> bool:
    """Whether this path applies: PostgreSQL, and no CASCADE relation the statement does not know."""
    if connection.vendor != "postgresql":
        return False
    known = {StepExecution, StepLog}
    return all(
        relation.on_delete is not models.CASCADE or relation.related_model in known
        for relation in _relations()
    )


def delete_old_executions(cutoff: datetime, *, batch: int) -> Deleted:
    """Delete finished executions older than `cutoff` in batches of `batch`, then vacuum what changed."""
    total = Deleted()
    sql = _statement()
    params: dict[str, Any] = {"statuses": list(EXECUTION_TERMINAL_STATUSES), "cutoff": cutoff, "batch": batch}
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            executions, steps, logs = cursor.fetchone()
        total.executions += executions
        total.steps += steps
        total.logs += logs
        if executions < batch:
            break
    if total.executions and not connection.in_atomic_block:
        tables = [WorkflowExecution, StepExecution, StepLog]
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"VACUUM (ANALYZE) {_q(model._meta.db_table)}")
    return total
