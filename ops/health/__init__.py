"""Liveness and readiness: django-health-check checks rendered in the operations guide's JSON shape."""
