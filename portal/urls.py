"""Portal routes; the portal lives at the site root, without trailing slashes like the API."""

from django.urls import path

from portal.views import (
    applications,
    dashboard,
    deploy,
    execution_actions,
    executions,
    goldenpaths,
    inbox,
    profile,
    providers,
    resources,
)

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", dashboard.favicon, name="favicon"),
    path("inbox", inbox.inbox, name="inbox"),
    path("apps", applications.application_list, name="application-list"),
    path("apps/<str:name>", applications.application_detail, name="application-detail"),
    path("apps/<str:name>/diff", applications.application_diff, name="application-diff"),
    path("apps/<str:name>/rollback", applications.application_rollback, name="application-rollback"),
    path("deploy", deploy.deploy, name="deploy"),
    path("workflows", executions.execution_list, name="execution-list"),
    path("workflows/<str:execution_id>", executions.execution_detail, name="execution-detail"),
    path("workflows/<str:execution_id>/status", executions.execution_status, name="execution-status"),
    path("workflows/<str:execution_id>/logs", executions.execution_logs, name="execution-logs"),
    path(
        "workflows/<str:execution_id>/logs.txt",
        executions.execution_log_download,
        name="execution-log-download",
    ),
    path("workflows/<str:execution_id>/cancel", execution_actions.cancel, name="execution-cancel"),
    path("workflows/<str:execution_id>/retry", execution_actions.retry, name="execution-retry"),
    path("workflows/<str:execution_id>/approve", execution_actions.approve, name="execution-approve"),
    path("workflows/<str:execution_id>/reject", execution_actions.reject, name="execution-reject"),
    path("golden-paths", goldenpaths.goldenpath_list, name="goldenpath-list"),
    path("golden-paths/<str:name>", goldenpaths.goldenpath_detail, name="goldenpath-detail"),
    path("resources", resources.resource_list, name="resource-list"),
    path("providers", providers.provider_list, name="provider-list"),
    path("profile", profile.profile, name="profile"),
    path("profile/api-keys", profile.create_key, name="api-key-create"),
    path("profile/api-keys/<int:key_id>/revoke", profile.revoke_key, name="api-key-revoke"),
]
