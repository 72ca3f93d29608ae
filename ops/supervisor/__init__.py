"""`manage.py worker`: our supervisor of django-q2 worker processes (signals, drain, probes)."""
