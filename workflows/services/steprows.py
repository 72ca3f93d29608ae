"""The few statements a worker issues for every step it runs, written out once.

A chain of steps costs a handful of statements per step, and on the ORM each costs several times
more to build than to run (a 2-core machine spends ~0.7 ms of CPU compiling a one-table update and
~0.3 ms sending it). These statements are built from the models' own tables, columns and value
adaptation, so they run on PostgreSQL and SQLite alike; everything off the per-step path stays on
the ORM. Only names from the models are ever formatted into the SQL; values always travel as
parameters, and on PostgreSQL they are bound on the server, where the statements are prepared.
"""

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, cast

import psycopg
from django.db import connection, models
from django_prometheus.db.metrics import errors_total, execute_total

from workflows.models import StepExecution, StepLog, WorkflowExecution


def _field(model: type[models.Model], name: str) -> "models.Field[Any, Any]":
    return cast("models.Field[Any, Any]", model._meta.get_field(name))


def _quoted(model: type[models.Model], *names: str) -> list[str]:
    """Quoted column names of model fields (`execution` gives `execution_id`)."""
    return [connection.ops.quote_name(_field(model, name).column) for name in names]


def _execute(sql: str, params: Sequence[Any]) -> Any:
    if connection.vendor != "postgresql":
        cursor = connection.cursor()
        cursor.execute(sql, params)
        return cursor
    return _execute_bound(sql, params)


@cache
def _bound_cursor_class() -> type[psycopg.Cursor[Any]]:
    """A server-binding cursor counted in the same query and error metrics as the ORM's cursors; not
    timed one by one (a step's own duration is), which on a busy worker costs more than the statement."""
    alias, vendor = connection.alias, connection.vendor
    executed = execute_total.labels(alias, vendor)

    class CountedCursor(psycopg.Cursor[Any]):
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            executed.inc()
            try:
                return super().execute(*args, **kwargs)
            except Exception as exc:
                errors_total.labels(alias, vendor, type(exc).__name__).inc()
                raise

    return CountedCursor


def _execute_bound(sql: str, params: Sequence[Any]) -> Any:
    """Run a statement with server-side binding: psycopg prepares the ones a connection runs often
    (its `prepare_threshold`), so PostgreSQL parses and plans each once per connection and no value is
    quoted into the text. The ORM's cursors bind on the client, where neither is possible.
    """
    # What the ORM does before it runs a statement: a connection the database dropped is replaced.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    cursor = _bound_cursor_class()(connection.connection)
    started = time.monotonic()
    with connection.wrap_database_errors:
        _with_wrappers(cursor, sql, params)
    if connection.queries_logged:  # what the ORM's debug cursor records, for tests and the debug toolbar
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return cursor


def _with_wrappers(cursor: psycopg.Cursor[Any], sql: str, params: Sequence[Any]) -> None:
    """Run through the connection's execute wrappers, as the ORM's cursors do: whatever every statement
    of the process must pass (the restore's write gate, instrumentation) sees these ones too."""

    def run(sql: str, params: Sequence[Any], many: bool, context: dict[str, Any]) -> None:
        cursor.execute(sql, params)

    executor: Any = run
    for wrapper in reversed(connection.execute_wrappers):
        executor = partial(wrapper, executor)
    executor(sql, params, False, {"connection": connection, "cursor": cursor})


# One `UPDATE … SET values WHERE conditions`: the names of the fields set, and of those compared.
Shape = tuple[tuple[str, ...], tuple[str, ...]]


def _update_statement(model: type[models.Model], shape: Shape, where_also: str = "") -> str:
    columns, conditions = shape
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(f"{column} = %s" for column in _quoted(model, *columns))
    where = " AND ".join(
        [*(f"{column} = %s" for column in _quoted(model, *conditions)), *filter(None, [where_also])]
    )
    return f"UPDATE {table} SET {assignments} WHERE {where}"  # noqa: S608  # nosec B608 - model names only


@cache
def _update_sql(model: type[models.Model], shapes: tuple[Shape, ...], log_rows: int) -> str:
    """One statement for the chain on PostgreSQL: data-modifying WITHs, each update applied only when
    the one before it changed a row, and a row of their counts."""
    parts = [f"appended AS ({_insert_logs_sql(log_rows)})"] if log_rows else []
    if len(shapes) == 1:
        update = _update_statement(model, shapes[0])
        return f"WITH {parts[0]} {update}" if parts else update
    for number, shape in enumerate(shapes):
        after = f"EXISTS (SELECT 1 FROM u{number - 1})" if number else ""  # noqa: S608  # nosec B608
        parts.append(f"u{number} AS ({_update_statement(model, shape, after)} RETURNING 1)")
    counts = ", ".join(f"(SELECT count(*) FROM u{number})" for number in range(len(shapes)))  # noqa: S608  # nosec B608
    return f"WITH {', '.join(parts)} SELECT {counts}"


def _update_params(
    model: type[models.Model], values: Mapping[str, Any], conditions: Mapping[str, Any]
) -> list[Any]:
    return [
        _field(model, name).get_db_prep_save(value, connection)
        for name, value in itertools.chain(values.items(), conditions.items())
    ]


def update_where(
    model: type[models.Model],
    values: Mapping[str, Any],
    conditions: Mapping[str, Any],
    *,
    logs: Sequence[StepLog] = (),
) -> int:
    """`UPDATE … SET values WHERE conditions` (equalities on fields); returns how many rows changed.

    `logs` are appended whether or not a row matched: on PostgreSQL in the same statement (a
    data-modifying WITH, one round trip less per step), elsewhere just before it.
    """
    (changed,) = update_chain(model, [(values, conditions)], logs=logs)
    return changed


def update_chain(
    model: type[models.Model],
    updates: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    logs: Sequence[StepLog] = (),
) -> list[int]:
    """`update_where` for each (values, conditions) in turn, each only when the one before it changed a
    row (later ones count 0 otherwise); returns the counts. One statement on PostgreSQL, with `logs`.
    """
    if connection.vendor != "postgresql":
        insert_logs(logs)
        counts: list[int] = []
        for values, conditions in updates:
            if counts and not counts[-1]:
                counts.append(0)
                continue
            sql = _update_sql(model, ((tuple(values), tuple(conditions)),), 0)
            with _execute(sql, _update_params(model, values, conditions)) as cursor:
                counts.append(int(cursor.rowcount))
        return counts
    inline = len(logs) if len(logs) <= _log_batch_size(logs) else 0
    if not inline:
        insert_logs(logs)
    params = _log_params(logs) if inline else []
    for values, conditions in updates:
        params += _update_params(model, values, conditions)
    shapes = tuple((tuple(values), tuple(conditions)) for values, conditions in updates)
    with _execute(_update_sql(model, shapes, inline), params) as cursor:
        if len(shapes) == 1:
            return [int(cursor.rowcount)]
        return [int(count) for count in cursor.fetchone()]


@cache
def _claim_sql(columns: tuple[str, ...], active: int) -> str:
    steps = connection.ops.quote_name(StepExecution._meta.db_table)
    executions = connection.ops.quote_name(WorkflowExecution._meta.db_table)
    assignments = ", ".join(f"{column} = %s" for column in _quoted(StepExecution, *columns))
    s_id, s_status, s_next, s_attempt, s_execution = _quoted(
        StepExecution, "id", "status", "next_attempt_at", "attempt", "execution"
    )
    e_id, e_status = _quoted(WorkflowExecution, "id", "status")
    statuses = ", ".join(["%s"] * active)
    return (
        f"UPDATE {steps} SET {assignments}, {s_attempt} = {s_attempt} + 1 "  # noqa: S608  # nosec B608 - model names only
        f"WHERE {s_id} = %s AND {s_status} = %s AND ({s_next} IS NULL OR {s_next} <= %s) "
        f"AND {s_execution} IN (SELECT {e_id} FROM {executions} WHERE {e_status} IN ({statuses})) "
        f"RETURNING {s_execution}"
    )


def claim_queued(
    step_id: int, values: Mapping[str, Any], *, pending: str, now: Any, active: Sequence[str]
) -> str | None:
    """Take a step named by a queue message: set `values` and count an attempt if it is still `pending`,
    due at `now`, and its execution's status is one of `active`; returns its execution's id, or None."""
    params = _update_params(StepExecution, values, {})
    params += [step_id, pending, _field(StepExecution, "next_attempt_at").get_db_prep_save(now, connection)]
    params += list(active)
    with _execute(_claim_sql(tuple(values), len(active)), params) as cursor:
        row = cursor.fetchone()
    return None if row is None else str(row[0])


@dataclass
class LockedExecution:
    """What a worker re-reads of an execution when it records a step, under the execution's row lock."""

    status: str
    variables: dict[str, Any]
    # (id, status, attempt, decided) of each step in workflow order: what tells that a step changed.
    heads: list[tuple[int, str, int, bool]]


@cache
def _lock_sql() -> str:
    executions = connection.ops.quote_name(WorkflowExecution._meta.db_table)
    e_id, e_status, e_variables = _quoted(WorkflowExecution, "id", "status", "variables")
    # NO KEY UPDATE where the database has it: it serialises recorders like FOR UPDATE does, and does not
    # hold back log lines being inserted for the execution meanwhile (their foreign key check).
    features = connection.features
    lock = " FOR UPDATE" if features.has_select_for_update else ""
    if features.has_select_for_no_key_update:
        lock = " FOR NO KEY UPDATE"
    return f"SELECT {e_status}, {e_variables} FROM {executions} WHERE {e_id} = %s{lock}"  # noqa: S608  # nosec B608 - model names only


@cache
def _heads_sql() -> str:
    steps = connection.ops.quote_name(StepExecution._meta.db_table)
    s_id, s_status, s_attempt, s_decided, s_execution, s_position = _quoted(
        StepExecution, "id", "status", "attempt", "decided_at", "execution", "position"
    )
    return (
        f"SELECT {s_id}, {s_status}, {s_attempt}, {s_decided} IS NOT NULL FROM {steps} "  # noqa: S608  # nosec B608 - model names only
        f"WHERE {s_execution} = %s ORDER BY {s_position}"
    )


def lock_execution(execution_id: str) -> LockedExecution | None:
    """Lock an execution's row until the transaction ends, then read its status, variables and step
    heads; None when it no longer exists.

    The heads are read by a statement of their own, started once the lock is held. One statement
    cannot do both: under READ COMMITTED a statement sees the rows committed when it began, so a
    recorder that waited for the lock would read its siblings' steps as they were before the recorder
    it waited for committed — two parallel steps finishing together would each see the other still
    running, and neither would start the step that joins them.
    """
    with _execute(_lock_sql(), [execution_id]) as cursor:
        row = cursor.fetchone()
    if row is None:
        return None
    with _execute(_heads_sql(), [execution_id]) as cursor:
        heads = [(pk, status, attempt, bool(decided)) for pk, status, attempt, decided in cursor.fetchall()]
    # The JSONField decodes what the driver returns, as it would for the ORM.
    variables = cast(Any, _field(WorkflowExecution, "variables"))
    return LockedExecution(
        status=row[0], variables=variables.from_db_value(row[1], None, connection) or {}, heads=heads
    )


_LOG_FIELDS = ("execution", "step", "seq", "stream", "level", "message", "created_at")


@cache
def _insert_logs_sql(rows: int) -> str:
    table = connection.ops.quote_name(StepLog._meta.db_table)
    row = "(" + ", ".join(["%s"] * len(_LOG_FIELDS)) + ")"
    columns = ", ".join(_quoted(StepLog, *_LOG_FIELDS))
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608  # nosec B608 - model names only


# The protocol's limit on one statement's parameters when they are bound on the server.
MAX_BOUND_PARAMETERS = 65535


def _log_batch_size(entries: Sequence[StepLog]) -> int:
    """How many log lines fit in one statement under the database's parameter limit."""
    size = connection.ops.bulk_batch_size([_field(StepLog, name) for name in _LOG_FIELDS], entries)
    if connection.vendor == "postgresql":
        size = min(size, MAX_BOUND_PARAMETERS // len(_LOG_FIELDS))
    return max(1, size)


def _log_params(entries: Sequence[StepLog]) -> list[Any]:
    fields = [_field(StepLog, name) for name in _LOG_FIELDS]
    return [
        field.get_db_prep_save(getattr(entry, field.attname), connection)
        for entry in entries
        for field in fields
    ]


def insert_logs(entries: Sequence[StepLog]) -> None:
    """Append log lines in as few statements as the database's parameter limit allows (ids not read back)."""
    size = _log_batch_size(entries)
    for start in range(0, len(entries), size):
        batch = entries[start : start + size]
        with _execute(_insert_logs_sql(len(batch)), _log_params(batch)):
            pass
