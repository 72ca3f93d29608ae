"""Workflows app: applications, revisions, executions, steps, logs and resources."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WorkflowsConfig(AppConfig):
    """App configuration for the orchestration domain."""

    name = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
        from django_q.signals import post_spawn

        from workflows.steps.isolation import protect_worker_process, resolve_step_user

        # Step processes run as this process's user unless STEP_RUN_AS_USER says otherwise: none of them
        # may read this process's memory or environment (secret key, database password) through /proc.
        protect_worker_process()
        try:
            resolve_step_user(settings.STEP_RUN_AS_USER)
        except ValueError as exc:
            raise ImproperlyConfigured(str(exc)) from exc

        from workflows import signals
        from workflows.providers import checks  # noqa: F401 - registers the provider system check
        from workflows.reaper_thread import ensure_schedules, start_reaper_thread
        from workflows.services.deployments import on_execution_finished

        post_spawn.connect(start_reaper_thread, dispatch_uid="innominatus-reaper-thread")
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="innominatus-schedules")
        from workflows.events.setup import after_migrate

        post_migrate.connect(after_migrate, sender=self, dispatch_uid="innominatus-event-triggers")
        signals.execution_finished.connect(on_execution_finished, dispatch_uid="innominatus-deploy-state")
