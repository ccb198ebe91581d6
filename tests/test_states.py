"""The suite's own machinery: a shared state is made once for every worker and guarded against writes; slow tests
run first; `.ci/run` holds the suite to its time budget."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.states import made_once

# two processes ask for the same state at once; each prints the value it got
ASK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from tests.states import made_once

    def build(folder):
        with open(Path(sys.argv[1]) / "builds.log", "a") as log:
            log.write("built\\n")
        time.sleep(1)  # long enough for the other process to ask meanwhile
        (folder / "state.txt").write_text("made")
        return {"folder": str(folder), "answer": 42}

    value, unchanged = made_once(Path(sys.argv[1]), "demo", build)
    unchanged()
    print(value["answer"], value["folder"])
""")


def test_a_state_is_made_once_and_every_process_reads_its_value(tmp_path):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ASK, str(tmp_path), str(PROJECT)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert [out for out, _ in outputs] == [f"42 {tmp_path / 'demo'}\n"] * 2
    assert (tmp_path / "builds.log").read_text() == "built\n"
    assert (tmp_path / "demo" / "state.txt").read_text() == "made"


def test_a_test_that_writes_into_a_shared_state_fails_the_run(tmp_path):
    value, unchanged = made_once(tmp_path, "home", lambda folder: (folder / "vt.duckdb").write_text("db") and folder)
    unchanged()  # as made
    (value / "vt.duckdb.spill").mkdir()
    (value / "vt.duckdb.spill" / "123").write_text("a reader's spill, made and removed while it reads")
    unchanged()  # not part of the state
    (value / "logs").mkdir()
    (value / "logs" / "refresh.log").write_text("a run wrote here")
    with pytest.raises(
        AssertionError,
        match=r"a test wrote into the shared state 'home' .*; copy it first "
        r"\(tests\.states\.private_copy\)\. Changed: logs/refresh\.log$",
    ):
        unchanged()


def test_a_state_that_could_not_be_made_fails_every_test_that_needs_it_with_the_reason(tmp_path):
    def broken(folder: Path):
        raise RuntimeError("the generator is broken")

    with pytest.raises(RuntimeError, match="the generator is broken"):
        made_once(tmp_path, "broken", broken)
    # the other worker does not try again: it reports the first one's error
    with pytest.raises(pytest.fail.Exception, match=r"(?s)'broken' could not be made.*the generator is broken"):
        made_once(tmp_path, "broken", lambda folder: pytest.fail("must not be called"))


def test_a_state_left_half_made_by_a_killed_worker_is_made_again(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "partial.txt").write_text("killed here")
    value, _ = made_once(tmp_path, "half", lambda folder: sorted(p.name for p in folder.iterdir()))
    assert value == []


def test_slow_tests_run_first_the_longest_first(pytestconfig):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", str(PROJECT / "tests")],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    marked = {}
    for item_id in ids:
        path, name = item_id.split("::", 1)
        source = (PROJECT / path).read_text()
        head = source[: source.index(f"def {name.split('[')[0]}(")].rsplit("\n\n", 1)[-1]
        if "@pytest.mark.slow(seconds=" in head:
            marked[item_id] = int(head.split("@pytest.mark.slow(seconds=", 1)[1].split(")")[0])
    assert len(marked) >= 10
    assert ids[: len(marked)] == list(marked)  # every slow test before any other
    assert list(marked.values()) == sorted(marked.values(), reverse=True)


@pytest.mark.parametrize(
    "budget, command, status, message",
    [
        ("5", ["true"], 0, r"wall time of 'true': 0 min 0[01] s \(budget 0 min 05 s\)\n"),
        ("5", ["false"], 1, r"wall time of 'false': 0 min 0[01] s \(budget 0 min 05 s\)\n"),  # the command's own exit
        (
            "1",
            ["sleep", "2"],
            1,
            r"wall time of 'sleep 2': 0 min 0([23]) s \(budget 0 min 01 s\)\nover budget: "
            r"'sleep 2' took 0 min 0\1 s, more than 0 min 01 s; see the slowest tests above \(--durations\) and "
            r"tests/README\.md\n",
        ),
        ("x", ["true"], 2, r"usage: \.ci/timed BUDGET_SECONDS COMMAND \[ARG\.\.\.\]\n"),
    ],
)
def test_ci_fails_a_suite_over_its_time_budget(budget, command, status, message):
    proc = subprocess.run([str(PROJECT / ".ci" / "timed"), budget, *command], capture_output=True, text=True)
    assert proc.returncode == status
    assert re.fullmatch(message, proc.stderr), proc.stderr


def test_ci_runs_the_readme_test_command_within_30_minutes():
    run = (PROJECT / ".ci" / "run").read_text().splitlines()
    assert run[-1] == ".ci/timed 1800 make test"
    readme = (PROJECT / "README.md").read_text()
    assert "make test" in readme and "30 minutes" in readme
