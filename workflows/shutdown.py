"""Whether this worker process is shutting down: it finishes its running step but takes no other one.

Set by the worker's SIGTERM handler (a plain assignment, safe there); read by the runner before it
claims a successor or retries in the same process, and before it records a result.
"""

import threading

# How long a runner waits for the hand-back, which ends the process when it is done.
HAND_BACK_WAIT_SECONDS = 60.0


class _State:
    requested = False
    handing_back = False
    handed_back = threading.Event()


def request() -> None:
    """From now on this process starts no new step."""
    _State.requested = True


def requested() -> bool:
    """Whether a shutdown was requested."""
    return _State.requested


def begin_hand_back() -> None:
    """This process is killing its steps to give them back: a step ended by that kill is not recorded."""
    _State.handing_back = True


def handing_back() -> bool:
    """Whether this process is handing its steps back (it exits right after)."""
    return _State.handing_back


def end_hand_back() -> None:
    """The hand-back is stored: runners waiting for it may go on (the process exits at once)."""
    _State.handed_back.set()


def wait_for_hand_back() -> None:
    """Block a runner until the hand-back is stored, so the process cannot end before it (bounded)."""
    _State.handed_back.wait(HAND_BACK_WAIT_SECONDS)
