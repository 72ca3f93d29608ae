"""Whether this worker process is shutting down: it finishes its running step but takes no other one.

Set by the worker's SIGTERM handler (a plain assignment, safe there); read by the runner before it
claims a successor or retries in the same process.
"""


class _State:
    requested = False


def request() -> None:
    """From now on this process starts no new step."""
    _State.requested = True


def requested() -> bool:
    """Whether a shutdown was requested."""
    return _State.requested
