"""innominatus: a platform orchestrator for internal developer platforms."""

__version__ = "0.1.0"
