"""Thin django-q2 entry points: take ids, call services."""

from workflows.services import goldenpaths, reaper, runner, scheduler


def run_step(step_id: int) -> None:
    """Run one step, then any successor this worker may run directly."""
    runner.run_step_chain(step_id)


def run_advance(execution_id: str) -> None:
    """Re-evaluate an execution and dispatch whatever became ready."""
    scheduler.advance_and_dispatch(execution_id)


def run_reaper() -> None:
    """Recover steps whose worker vanished and executions that stalled."""
    reaper.reap()


def run_expire_ephemeral_environments() -> None:
    """Tear down ephemeral environments whose time to live passed."""
    goldenpaths.expire_ephemeral_environments()
