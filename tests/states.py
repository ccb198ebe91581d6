"""States that are expensive to make (a refreshed half-year, a frozen year, a built history) are made once per test
run and shared read-only by every test that needs them, in every pytest-xdist worker (tests/README.md).

A state is made by the first worker that asks for it, under a file lock in the run's base folder; a worker that asks
while it is being made waits for it, then reads the same value. A test that must write into a state copies it first
(`shutil.copytree(home, tmp_path / "wh", symlinks=True)`): at the end of the run every worker checks that the files
of each state it used are as they were made, so a test that writes into one fails the run instead of silently
changing what the tests after it see.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# made in this worker or read from the one that made it: name -> value
_VALUES: dict[str, Any] = {}


def run_root(factory: pytest.TempPathFactory) -> Path:
    """The folder of this test run that every worker shares: the base folder, or with xdist the one above the
    workers' own (pytest-of-<user>/pytest-<n>/)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_state(request: pytest.FixtureRequest, name: str, build: Callable[[Path], Any]) -> Any:
    """`build(folder)`'s value, made once per test run in `folder` (empty, of this state alone) and shared with the
    other workers. Use it from a session-scoped fixture. The files under `folder` must not change after `build`:
    checked when this worker's session ends."""
    if name not in _VALUES:
        root = run_root(request.getfixturevalue("tmp_path_factory")) / "shared-states"
        _VALUES[name], unchanged = made_once(root, name, build)
        request.addfinalizer(unchanged)
    return _VALUES[name]


def made_once(root: Path, name: str, build: Callable[[Path], Any]) -> tuple[Any, Callable[[], None]]:
    """`build(root / name)`'s value, made by the first process that asks and read back (pickled) by every later
    one; and a check that fails when a file under `root / name` changed since it was made."""
    root.mkdir(parents=True, exist_ok=True)
    folder, value_file, files_file = root / name, root / f"{name}.pickle", root / f"{name}.files"
    failed_file = root / f"{name}.failed"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also when this process dies
        if failed_file.exists():
            pytest.fail(
                f"the shared state {name!r} could not be made (another worker tried):\n{failed_file.read_text()}",
                pytrace=False,
            )
        if not value_file.exists():
            if folder.exists():  # left by a worker that died while it made the state
                shutil.rmtree(folder)
            folder.mkdir()
            try:
                value = build(folder)
            except BaseException:
                failed_file.write_text(traceback.format_exc())
                raise
            files_file.write_bytes(pickle.dumps(fingerprint(folder)))
            value_file.write_bytes(pickle.dumps(value))
    made = pickle.loads(files_file.read_bytes())

    def unchanged() -> None:
        now = fingerprint(folder)
        if now != made:
            changed = sorted({path for path, _ in {*now.items()} ^ {*made.items()}})
            more = f" and {len(changed) - 10} more" if len(changed) > 10 else ""
            raise AssertionError(
                f"a test wrote into the shared state {name!r} ({folder}); copy it first "
                f"(tests.states.private_copy). Changed: {', '.join(changed[:10])}{more}"
            )

    return pickle.loads(value_file.read_bytes()), unchanged


def private_copy(home: Path, tmp_path: Path, name: str = "wh") -> Path:
    """A copy of a shared warehouse (or any state folder) for a test that writes: a load, a build, a dbt or quality
    run (dbt writes its target folder and logs even when it only tests)."""
    target = tmp_path / name
    shutil.copytree(home, target, symlinks=True)
    return target


def fingerprint(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under `folder` with its size, modification time and mode; a DuckDB reader's spill folder (made
    and removed while it reads) is not part of a state."""
    found = {}
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.endswith(".spill")]
        for name in files:
            path = Path(top, name)
            st = path.lstat()
            found[str(path.relative_to(folder))] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return found
