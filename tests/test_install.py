"""The environment `make` installs (.venv): what every vt, dbt and GX process pays for at its start."""

import importlib.util
from pathlib import Path

import dbt
import pandas


def _uncompiled(package) -> list[Path]:
    root = Path(package.__file__).parent
    return [p for p in root.rglob("*.py") if not Path(importlib.util.cache_from_source(str(p))).exists()]


def test_the_heavy_packages_are_compiled_at_install():
    # Without `uv pip install --compile-bytecode` (Makefile) a process run with PYTHONDONTWRITEBYTECODE, or on a
    # read-only .venv, compiles dbt and pandas from source at every start (3-4 s per process); then the modules
    # nothing imported yet have no .pyc at all.
    for package in (dbt, pandas):
        missing = _uncompiled(package)
        assert not missing, f"{len(missing)} modules of {package.__name__} without bytecode, e.g. {missing[:3]}"
