# ruff: noqa: S608 - constant DDL, no values are formatted into it
"""The triggers that write `workflow_events` rows, in the statement that changes a state.

Why triggers: a state changes in many places (model transitions, bulk updates of the reaper and the
cancel path, the prebuilt statements of the step hot path in workflows/services/steprows.py, and
whatever is added later). A trigger reports every one of them in the same transaction, at the cost of
one INSERT inside the statement already sent: no round trip more. Updates that do not change the
state (heartbeats, outputs) do not even call the function: the WHEN clause filters them in C.

PostgreSQL also sends `NOTIFY innominatus_events, '<id>'`, which PostgreSQL delivers on commit only.
Log lines become one `step.log` event per statement and step (a statement-level trigger over the new
rows) that names the range of log ids; the stream reads the lines themselves when it sends them, so
their text is not stored twice. SQLite has no statement-level triggers: one event per line there.

Event types: see docs/events.md. Team is the owner as the API scopes it: an execution's team, a
step's execution's team, a resource's application's team, an application's team.
"""

from typing import Any

CHANNEL = "innominatus_events"

# --------------------------------------------------------------------------------------- PostgreSQL
POSTGRESQL = f"""
CREATE FUNCTION workflow_event_emit(p_type text, p_team text, p_app text, p_exec text, p_step text,
                                    p_data jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE new_id bigint;
BEGIN
  INSERT INTO workflow_events (created_at, type, team, application, execution, step, data)
  VALUES (clock_timestamp(), p_type, coalesce(p_team, ''), coalesce(p_app, ''), coalesce(p_exec, ''),
          coalesce(p_step, ''), p_data)
  RETURNING id INTO new_id;
  PERFORM pg_notify('{CHANNEL}', new_id::text);
END $$;

CREATE FUNCTION workflow_events_execution() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE kind text; previous text := '';
BEGIN
  IF TG_OP = 'INSERT' THEN
    kind := 'execution.created';
  ELSE
    previous := OLD.status;
    kind := CASE NEW.status WHEN 'running' THEN 'execution.started'
                            WHEN 'waiting' THEN 'execution.waiting_approval'
                            WHEN 'completed' THEN 'execution.succeeded'
                            WHEN 'failed' THEN 'execution.failed'
                            WHEN 'cancelled' THEN 'execution.cancelled' END;
  END IF;
  IF kind IS NOT NULL THEN
    PERFORM workflow_event_emit(kind, (SELECT name FROM teams WHERE id = NEW.team_id), NEW.app_name,
      NEW.id, '', jsonb_build_object('status', NEW.status, 'previous', previous,
                                     'workflow', NEW.workflow_name, 'error', NEW.error_message));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER workflow_events_execution_insert AFTER INSERT ON workflow_executions
  FOR EACH ROW EXECUTE FUNCTION workflow_events_execution();
CREATE TRIGGER workflow_events_execution_status AFTER UPDATE OF status ON workflow_executions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION workflow_events_execution();

CREATE FUNCTION workflow_events_step() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE owner record;
BEGIN
  SELECT x.app_name, t.name AS team INTO owner
    FROM workflow_executions x LEFT JOIN teams t ON t.id = x.team_id WHERE x.id = NEW.execution_id;
  PERFORM workflow_event_emit(
    CASE NEW.status WHEN 'running' THEN 'step.started' WHEN 'completed' THEN 'step.succeeded'
                    ELSE 'step.' || NEW.status END,
    owner.team, owner.app_name, NEW.execution_id, NEW.name,
    jsonb_build_object('id', NEW.id, 'name', NEW.name, 'type', NEW.step_type, 'status', NEW.status,
                       'previous', OLD.status, 'attempt', NEW.attempt,
                       'max_attempts', NEW.max_attempts, 'error', NEW.error_message,
                       'skip_reason', NEW.skip_reason));
  RETURN NULL;
END $$;
CREATE TRIGGER workflow_events_step_status AFTER UPDATE OF status ON workflow_step_executions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                     AND NEW.status IN ('running', 'completed', 'failed', 'skipped', 'cancelled'))
  EXECUTE FUNCTION workflow_events_step();

CREATE FUNCTION workflow_events_logs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE last_id bigint;
BEGIN
  WITH batches AS (
    SELECT execution_id, step_id, min(id) AS first_id, max(id) AS last_id, count(*) AS lines
      FROM appended_lines GROUP BY execution_id, step_id
  ), added AS (
    INSERT INTO workflow_events (created_at, type, team, application, execution, step, data)
    SELECT clock_timestamp(), 'step.log', coalesce(t.name, ''), x.app_name, b.execution_id,
           coalesce(s.name, ''),
           jsonb_build_object('step_id', b.step_id, 'first_log_id', b.first_id,
                              'last_log_id', b.last_id, 'count', b.lines)
      FROM batches b JOIN workflow_executions x ON x.id = b.execution_id
      LEFT JOIN teams t ON t.id = x.team_id
      LEFT JOIN workflow_step_executions s ON s.id = b.step_id
     ORDER BY b.first_id
    RETURNING id
  )
  SELECT max(id) INTO last_id FROM added;
  IF last_id IS NOT NULL THEN
    PERFORM pg_notify('{CHANNEL}', last_id::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER workflow_events_logs AFTER INSERT ON workflow_step_logs
  REFERENCING NEW TABLE AS appended_lines FOR EACH STATEMENT EXECUTE FUNCTION workflow_events_logs();

CREATE FUNCTION workflow_events_resource() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE previous text := '';
BEGIN
  IF TG_OP = 'UPDATE' THEN previous := OLD.state; END IF;
  PERFORM workflow_event_emit(
    'resource.' || CASE NEW.state WHEN 'terminating' THEN 'deleting' WHEN 'terminated' THEN 'deleted'
                                  ELSE NEW.state END,
    (SELECT t.name FROM applications a JOIN teams t ON t.id = a.team_id WHERE a.id = NEW.application_id),
    NEW.app_name, '', '',
    jsonb_build_object('id', NEW.id, 'name', NEW.resource_name, 'type', NEW.resource_type,
                       'state', NEW.state, 'previous', previous, 'error', NEW.error_message));
  RETURN NULL;
END $$;
CREATE TRIGGER workflow_events_resource_insert AFTER INSERT ON resource_instances
  FOR EACH ROW EXECUTE FUNCTION workflow_events_resource();
CREATE TRIGGER workflow_events_resource_state AFTER UPDATE OF state ON resource_instances
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION workflow_events_resource();

CREATE FUNCTION workflow_events_application() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE app record; kind text;
BEGIN
  IF TG_OP = 'DELETE' THEN app := OLD; kind := 'application.deleted';
  ELSIF TG_OP = 'INSERT' THEN app := NEW; kind := 'application.created';
  ELSE app := NEW; kind := 'application.updated';
  END IF;
  PERFORM workflow_event_emit(kind, (SELECT name FROM teams WHERE id = app.team_id), app.name, '', '',
    jsonb_build_object('name', app.name, 'deploy_state', app.deploy_state,
                       'deploy_message', app.deploy_message,
                       'revision', (SELECT number FROM deployment_revisions
                                     WHERE id = app.current_revision_id)));
  RETURN NULL;
END $$;
CREATE TRIGGER workflow_events_application_insert AFTER INSERT ON applications
  FOR EACH ROW EXECUTE FUNCTION workflow_events_application();
CREATE TRIGGER workflow_events_application_delete AFTER DELETE ON applications
  FOR EACH ROW EXECUTE FUNCTION workflow_events_application();
CREATE TRIGGER workflow_events_application_update AFTER UPDATE ON applications
  FOR EACH ROW WHEN (OLD.deploy_state IS DISTINCT FROM NEW.deploy_state
                     OR OLD.deploy_message IS DISTINCT FROM NEW.deploy_message
                     OR OLD.current_revision_id IS DISTINCT FROM NEW.current_revision_id
                     OR OLD.team_id IS DISTINCT FROM NEW.team_id)
  EXECUTE FUNCTION workflow_events_application();
"""  # nosec B608 - constant DDL, no values are formatted into it

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS workflow_events_execution_insert ON workflow_executions;
DROP TRIGGER IF EXISTS workflow_events_execution_status ON workflow_executions;
DROP TRIGGER IF EXISTS workflow_events_step_status ON workflow_step_executions;
DROP TRIGGER IF EXISTS workflow_events_logs ON workflow_step_logs;
DROP TRIGGER IF EXISTS workflow_events_resource_insert ON resource_instances;
DROP TRIGGER IF EXISTS workflow_events_resource_state ON resource_instances;
DROP TRIGGER IF EXISTS workflow_events_application_insert ON applications;
DROP TRIGGER IF EXISTS workflow_events_application_delete ON applications;
DROP TRIGGER IF EXISTS workflow_events_application_update ON applications;
DROP FUNCTION IF EXISTS workflow_events_execution();
DROP FUNCTION IF EXISTS workflow_events_step();
DROP FUNCTION IF EXISTS workflow_events_logs();
DROP FUNCTION IF EXISTS workflow_events_resource();
DROP FUNCTION IF EXISTS workflow_events_application();
DROP FUNCTION IF EXISTS workflow_event_emit(text, text, text, text, text, jsonb);
"""

# ------------------------------------------------------------------------------------------- SQLite
_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_INSERT = "INSERT INTO workflow_events (created_at, type, team, application, execution, step, data)"
_TEAM = "coalesce((SELECT name FROM teams WHERE id = {row}.team_id), '')"
_EXECUTION_DATA = (
    "json_object('status', NEW.status, 'previous', {previous}, 'workflow', NEW.workflow_name, "
    "'error', NEW.error_message)"
)
_APPLICATION = (
    "VALUES ({now}, '{kind}', coalesce((SELECT name FROM teams WHERE id = {row}.team_id), ''), {row}.name, "
    "'', '', json_object('name', {row}.name, 'deploy_state', {row}.deploy_state, 'deploy_message', "
    "{row}.deploy_message, 'revision', (SELECT number FROM deployment_revisions "
    "WHERE id = {row}.current_revision_id)))"
)
_RESOURCE = (
    "VALUES ({now}, 'resource.' || CASE NEW.state WHEN 'terminating' THEN 'deleting' "
    "WHEN 'terminated' THEN 'deleted' ELSE NEW.state END, "
    "coalesce((SELECT t.name FROM applications a JOIN teams t ON t.id = a.team_id "
    "WHERE a.id = NEW.application_id), ''), NEW.app_name, '', '', json_object('id', NEW.id, 'name', "
    "NEW.resource_name, 'type', NEW.resource_type, 'state', NEW.state, 'previous', {previous}, "
    "'error', NEW.error_message))"
)

SQLITE = [
    f"""CREATE TRIGGER workflow_events_execution_insert AFTER INSERT ON workflow_executions BEGIN
  {_INSERT} VALUES ({_NOW}, 'execution.created', {_TEAM.format(row="NEW")}, NEW.app_name, NEW.id, '',
  {_EXECUTION_DATA.format(previous="''")}); END""",
    f"""CREATE TRIGGER workflow_events_execution_status AFTER UPDATE OF status ON workflow_executions
  WHEN OLD.status IS NOT NEW.status
   AND NEW.status IN ('running', 'waiting', 'completed', 'failed', 'cancelled') BEGIN
  {_INSERT} VALUES ({_NOW}, CASE NEW.status WHEN 'running' THEN 'execution.started'
    WHEN 'waiting' THEN 'execution.waiting_approval' WHEN 'completed' THEN 'execution.succeeded'
    ELSE 'execution.' || NEW.status END, {_TEAM.format(row="NEW")}, NEW.app_name, NEW.id, '',
  {_EXECUTION_DATA.format(previous="OLD.status")}); END""",
    f"""CREATE TRIGGER workflow_events_step_status AFTER UPDATE OF status ON workflow_step_executions
  WHEN OLD.status IS NOT NEW.status
   AND NEW.status IN ('running', 'completed', 'failed', 'skipped', 'cancelled') BEGIN
  {_INSERT} SELECT {_NOW}, CASE NEW.status WHEN 'running' THEN 'step.started'
    WHEN 'completed' THEN 'step.succeeded' ELSE 'step.' || NEW.status END,
    coalesce(t.name, ''), x.app_name, NEW.execution_id, NEW.name,
    json_object('id', NEW.id, 'name', NEW.name, 'type', NEW.step_type, 'status', NEW.status,
      'previous', OLD.status, 'attempt', NEW.attempt, 'max_attempts', NEW.max_attempts,
      'error', NEW.error_message, 'skip_reason', NEW.skip_reason)
    FROM workflow_executions x LEFT JOIN teams t ON t.id = x.team_id WHERE x.id = NEW.execution_id; END""",  # nosec B608 - constant DDL
    f"""CREATE TRIGGER workflow_events_logs AFTER INSERT ON workflow_step_logs BEGIN
  {_INSERT} SELECT {_NOW}, 'step.log', coalesce(t.name, ''), x.app_name, NEW.execution_id,
    coalesce((SELECT name FROM workflow_step_executions WHERE id = NEW.step_id), ''),
    json_object('step_id', NEW.step_id, 'first_log_id', NEW.id, 'last_log_id', NEW.id, 'count', 1)
    FROM workflow_executions x LEFT JOIN teams t ON t.id = x.team_id WHERE x.id = NEW.execution_id; END""",  # nosec B608 - constant DDL
    f"""CREATE TRIGGER workflow_events_resource_insert AFTER INSERT ON resource_instances BEGIN
  {_INSERT} {_RESOURCE.format(now=_NOW, previous="''")}; END""",
    f"""CREATE TRIGGER workflow_events_resource_state AFTER UPDATE OF state ON resource_instances
  WHEN OLD.state IS NOT NEW.state BEGIN
  {_INSERT} {_RESOURCE.format(now=_NOW, previous="OLD.state")}; END""",
    f"""CREATE TRIGGER workflow_events_application_insert AFTER INSERT ON applications BEGIN
  {_INSERT} {_APPLICATION.format(now=_NOW, kind="application.created", row="NEW")}; END""",
    f"""CREATE TRIGGER workflow_events_application_delete AFTER DELETE ON applications BEGIN
  {_INSERT} {_APPLICATION.format(now=_NOW, kind="application.deleted", row="OLD")}; END""",
    f"""CREATE TRIGGER workflow_events_application_update AFTER UPDATE ON applications
  WHEN OLD.deploy_state IS NOT NEW.deploy_state OR OLD.deploy_message IS NOT NEW.deploy_message
    OR OLD.current_revision_id IS NOT NEW.current_revision_id OR OLD.team_id IS NOT NEW.team_id BEGIN
  {_INSERT} {_APPLICATION.format(now=_NOW, kind="application.updated", row="NEW")}; END""",
]

SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "workflow_events_execution_insert",
        "workflow_events_execution_status",
        "workflow_events_step_status",
        "workflow_events_logs",
        "workflow_events_resource_insert",
        "workflow_events_resource_state",
        "workflow_events_application_insert",
        "workflow_events_application_delete",
        "workflow_events_application_update",
    )
]


def install(connection: Any) -> None:
    """(Re)create the triggers on `connection`'s database (PostgreSQL or SQLite); idempotent.

    Run by the migration and after every `migrate`: SQLite rebuilds a table for most ALTERs (and a
    partitioning or rebuild on PostgreSQL may replace one), which drops its triggers with it.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRESQL_DROP + POSTGRESQL)
        elif connection.vendor == "sqlite":
            for statement in [*SQLITE_DROP, *SQLITE]:
                cursor.execute(statement)


def uninstall(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRESQL_DROP)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_DROP:
                cursor.execute(statement)
