"""Fault injection for the crash and concurrency tests: a process can be told to die, or to pause, at a
named point.

`VT_KILL_AT=load:melding vt load ...` dies by SIGKILL right after the melding table of the first file was
written, before its commit: exactly what a power cut or OOM kill would do there. `VT_PAUSE_AT=name=seconds`
sleeps there (to hold a lock while a second process starts). `VT_FAIL_AT=name=ENOSPC` raises the OSError a
full disk (or EROFS, EACCES, EIO) would raise there. Unset, this costs three dictionary lookups.
"""

import errno
import os
import signal
import time

KILL_ENV, PAUSE_ENV, FAIL_ENV = "VT_KILL_AT", "VT_PAUSE_AT", "VT_FAIL_AT"


def checkpoint(name: str) -> None:
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    fail = os.environ.get(FAIL_ENV)
    if fail and fail.partition("=")[0] == name:
        number = getattr(errno, fail.partition("=")[2])
        raise OSError(number, os.strerror(number))
    pause = os.environ.get(PAUSE_ENV)
    if pause and pause.partition("=")[0] == name:
        time.sleep(float(pause.partition("=")[2]))
