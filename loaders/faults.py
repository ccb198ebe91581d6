"""Fault injection for the crash tests: a process can be told to kill itself at a named point.

`VT_KILL_AT=load:melding vt load ...` dies by SIGKILL right after the melding table of the first file was
written, before its commit: exactly what a power cut or OOM kill would do there. Unset, this costs a
dictionary lookup.
"""

import os
import signal

KILL_ENV = "VT_KILL_AT"


def checkpoint(name: str) -> None:
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
