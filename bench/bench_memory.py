"""Peak memory of `vt load` for a file near the size limit: the loader reads large files in chunks.

    .venv/bin/python bench/bench_memory.py [--mib 1900] [--baseline-mib 200]

Writes a valid delivery of about --mib MiB (one VL, casus records with unique numbers, one SL) and loads it with
`vt load` in a child process, reporting the child's peak resident memory (ru_maxrss) and wall time. As a
baseline in the same run, a --baseline-mib file is loaded whole in memory (VT_CHUNK_BYTES above its size), so
the ratio shows what chunking saves. Figures in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders.layout import RECORD_LENGTH, default_layout  # noqa: E402
from tests.conftest import KEY, record  # noqa: E402

MIB = 1 << 20


def write_big_delivery(path: Path, mib: int) -> int:
    """VT05_2020H1_001 with n records: casussen (CA000000000001, ...) up to the SL's 7-digit count, adviezen for
    the rest; returns n."""
    n = mib * MIB // (RECORD_LENGTH + 1)
    parts = {"CA": min(n, 9_999_999)}
    parts["AD"] = n - parts["CA"]
    with open(path, "wb") as fh:
        fh.write(
            (
                record(
                    "VL",
                    "VT05",
                    verslagperiode="2020H1",
                    aanmaakdatum="20200715",
                    versie_bestandsdefinitie="0200",
                    leveringsnummer="001",
                )
                + "\n"
            ).encode()
        )
        for code, count in parts.items():
            _write_records(fh, code, count)
        counts = {
            f"aantal_{c.lower()}": f"{parts.get(c, 0):07d}"
            for c in ("CA", "AD", "ME", "VB", "VV", "ON", "OV", "MO", "BT")
        }
        fh.write((record("SL", "VT05", **counts) + "\n").encode())
    return n


def _write_records(fh, code: str, n: int) -> None:
    values = {
        "CA": dict(casusnummer="X", startdatum="20200110", gemeentecode="0202"),
        "AD": dict(adviesnummer="X", startdatum="20200301", gemeentecode="0202", rol="20"),
    }[code]
    template = np.frombuffer(record(code, "VT05", **values).encode() + b"\n", dtype=np.uint8)
    key = default_layout().record_types[code].fields[2]  # casusnummer, adviesnummer
    step = 1_000_000
    for lo in range(0, n, step):
        count = min(step, n - lo)
        block = np.tile(template, (count, 1))
        numbers = np.char.zfill(np.arange(lo + 1, lo + count + 1).astype("U12"), 12).astype("S12")
        number_bytes = np.frombuffer(b"".join(code.encode() + x for x in numbers), dtype=np.uint8).reshape(count, 14)
        block[:, key.offset : key.offset + 14] = number_bytes
        fh.write(block.tobytes())


def load_peak(path: Path, home: Path, env: dict) -> tuple[int, float, int]:
    """(peak RSS in MiB, seconds, exit code) of `vt load path` into a new warehouse."""
    full = {**os.environ, "VT_HOME": str(home), "VT_PSEUDONYM_KEY": KEY, **env}
    full.pop("VT_DATABASE", None)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vt_warehouse.cli", "load", "--received-at", "2020-07-20", str(path)],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(proc.stderr.read().decode(errors="replace"))
    return usage.ru_maxrss // 1024, seconds, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1900)
    parser.add_argument("--baseline-mib", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vt-bench-memory-"))
    try:
        for label, mib, env in (
            ("whole in memory (baseline)", args.baseline_mib, {"VT_CHUNK_BYTES": str(4 << 30)}),
            ("chunked, the same file", args.baseline_mib, {}),
            ("chunked, near the limit", args.mib, {}),
        ):
            path = work / "VT05_2020H1_001.txt"
            n = write_big_delivery(path, mib)
            peak, seconds, code = load_peak(path, work / f"wh-{label[:5]}-{mib}", env)
            print(
                f"{label:<28} {path.stat().st_size / MIB:7.0f} MiB {n:>10} records: peak RSS {peak:6d} MiB, "
                f"{seconds:6.1f} s, exit {code}"
            )
            shutil.rmtree(work / f"wh-{label[:5]}-{mib}")
            if code:
                return 1
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
