"""The resource types that Score's reference implementations provision out of the box."""

from __future__ import annotations

# The default provisioners of score-compose and score-k8s (docs.score.dev, "resources
# provisioners"), plus `environment`, which score-compose resolves from its own environment.
# Type names are case-sensitive, as Score compares them.
BUILTIN_RESOURCE_TYPES: frozenset[str] = frozenset(
    {
        "amqp",
        "dns",
        "elasticsearch",
        "environment",
        "kafka-topic",
        "mongodb",
        "mssql",
        "mysql",
        "postgres",
        "postgres-instance",
        "redis",
        "route",
        "s3",
        "service-port",
        "volume",
    }
)
