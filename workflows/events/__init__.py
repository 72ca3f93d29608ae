"""The event stream: rows written by triggers (triggers.py), a per-process listener that wakes open
streams (hub.py), the readers with the API's team scoping (reader.py) and retention (retention.py)."""
