"""Child processes that must not outlive the refresh that started them."""

from __future__ import annotations

import sys


def die_with_parent() -> None:
    """For `preexec_fn`: the child is killed when its parent dies. A child that outlived a killed refresh would
    keep its read-only handle on the database (blocking the next refresh's writes) or go on writing a release's
    staging folder that the next refresh removes."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
