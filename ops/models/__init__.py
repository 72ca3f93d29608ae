"""Operations models, one module per aggregate."""

from ops.models.heartbeat import WorkerHeartbeat

__all__ = ["WorkerHeartbeat"]
