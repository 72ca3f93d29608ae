"""django-q2 entry points for the periodic operations jobs (scheduled by ops.schedules)."""

import logging
from pathlib import Path

from django.conf import settings

from innominatus.locks import LockHeld, command_lock
from ops.backup import create_backup
from ops.cleanup import cleanup

logger = logging.getLogger(__name__)

CLEANUP_LOCK = "innominatus:cleanup"
BACKUP_LOCK = "innominatus:backup"


def run_cleanup() -> dict[str, object]:
    """Apply RETENTION_DAYS; skipped when another replica is cleaning up."""
    try:
        with command_lock(CLEANUP_LOCK):
            return cleanup(days=settings.RETENTION_DAYS).as_dict()
    except LockHeld:
        logger.info("cleanup skipped: another process holds the lock")
        return {"skipped": "locked"}


def run_backup() -> dict[str, object]:
    """Back up into BACKUP_DIR keeping BACKUP_KEEP dumps; skipped when another backup runs."""
    try:
        with command_lock(BACKUP_LOCK):
            result = create_backup(output_dir=Path(settings.BACKUP_DIR), keep=settings.BACKUP_KEEP)
    except LockHeld:
        logger.info("backup skipped: another process holds the lock")
        return {"skipped": "locked"}
    return {"path": str(result.path), "size": result.size, "pruned": [str(p) for p in result.pruned]}
