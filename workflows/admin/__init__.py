"""The operator console: every workflows model in the Django admin, run records read-only."""

from workflows.admin import applications, executions, resources

__all__ = ["applications", "executions", "resources"]
