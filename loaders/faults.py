"""Fault injection for the crash and concurrency tests: a process can be told to die, or to pause, at a
named point.

`VT_KILL_AT=load:melding vt load ...` dies by SIGKILL right after the melding table of the first file was
written, before its commit: exactly what a power cut or OOM kill would do there. `VT_PAUSE_AT=name=seconds`
sleeps there (to hold a lock while a second process starts). `VT_FAIL_AT=name=ENOSPC` raises the OSError a
full disk (or EROFS, EACCES, EIO) would raise there. `name@3` acts the third time the point is reached (the
third file, the third release). Unset, this costs three dictionary lookups.
"""

import errno
import os
import signal
import time

KILL_ENV, PAUSE_ENV, FAIL_ENV = "VT_KILL_AT", "VT_PAUSE_AT", "VT_FAIL_AT"


_reached: dict[str, int] = {}


def checkpoint(name: str) -> None:
    kill, fail = os.environ.get(KILL_ENV), os.environ.get(FAIL_ENV)
    if not (kill or fail or os.environ.get(PAUSE_ENV)):
        return
    _reached[name] = _reached.get(name, 0) + 1
    if kill and _hits(kill, name):
        os.kill(os.getpid(), signal.SIGKILL)
    if fail and _hits(fail.partition("=")[0], name):
        number = getattr(errno, fail.partition("=")[2])
        raise OSError(number, os.strerror(number))
    pause = os.environ.get(PAUSE_ENV)
    if pause and pause.partition("=")[0] == name:
        time.sleep(float(pause.partition("=")[2]))


def _hits(spec: str, name: str) -> bool:
    """`name` fires the first time it is reached; `name@3` the third time (in this process)."""
    point, _, nth = spec.partition("@")
    return point == name and _reached[name] == int(nth or 1)


def carry(name: str, times: int) -> None:
    """`name` was reached `times` times in the process that started this one: a freeze child does the n-th
    freeze of its refresh, and `release:before-rename@3` still means the third release."""
    _reached[name] = times
