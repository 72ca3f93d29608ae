"""Execution counts per team and status, maintained by the database so that dashboards never scan history."""

from django.db import models


class ExecutionStatusCount(models.Model):
    """How many executions of one team (team_key 0: none) are in one status.

    On PostgreSQL statement-level triggers on workflow_executions keep these rows exact, in the same
    transaction as the change, with one grouped upsert per statement taken in key order (no deadlocks
    between counter rows). On SQLite the table stays empty and the stats fall back to an aggregate.
    """

    team_key = models.BigIntegerField(help_text="The team's id, 0 for executions without a team.")
    status = models.CharField(max_length=16)
    n = models.BigIntegerField(default=0)

    class Meta:
        db_table = "workflow_execution_counts"
        constraints = [models.UniqueConstraint(fields=["team_key", "status"], name="execution_count_key")]

    def __str__(self) -> str:
        return f"team {self.team_key} {self.status}: {self.n}"
