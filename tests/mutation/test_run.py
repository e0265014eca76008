"""``python -m mutation`` end to end, on a small module and one test: the baseline, a worker
process, the kills, the survivor and an equivalent mutant named in the configuration."""

import json
import time
from pathlib import Path

import pytest

from mutation import report
from mutation.config import Config, Known, Target
from mutation.runner import RunError, run

HALT_TEST = (
    "tests/retention/test_halt_points.py::test_the_nth_passage_of_the_named_step_halts_and_says_so"
)
FAULTS = "logs/retention/faults.py"


def test_a_run_scores_a_module_against_its_tests_and_names_the_survivor():
    target = Target(FAULTS, [HALT_TEST], 90)
    endless = Known(FAULTS, "halt_point: time.sleep(60) -> pass", "", "a busy wait", "equivalent")
    messages = []

    (result,) = run([target], Config([target], [endless]), jobs=1, log=messages.append)

    assert messages[0].startswith("baseline: 1 tests in ")
    statuses = {outcome.mutant.key: outcome.status for outcome in result.outcomes}
    assert statuses.pop("halt_point: time.sleep(60) -> pass") == "equivalent"
    # The test sets a count: it cannot tell the default count from another.
    survivor = (
        "halt_point: if _passages[step] == int(count or 1): "
        "-> if _passages[step] == int(count or 2):"
    )
    assert statuses.pop(survivor) == "survived"
    assert set(statuses.values()) == {"killed"}
    assert all(o.by == HALT_TEST for o in result.outcomes if o.status == "killed")
    assert (result.killed, result.scored) == (11, 12)
    assert result.passes(90) and not result.passes(92)

    text = report.text([result], {FAULTS: 90}, verbose=False)
    assert text.startswith(f"{FAULTS}: 11 of 12 mutants killed (91.7%); 1 equivalent  [ok 90%]")
    assert f"  {FAULTS}:26  {survivor}" in text
    modules = report.as_json([result], {FAULTS: 90})["modules"]
    assert json.dumps(modules)  # plain data
    assert modules[0]["score"] == 100 * 11 / 12


def test_the_baseline_is_shared_by_the_processes_and_every_test_is_recorded_once(tmp_path):
    """Two processes record the baseline, each a share of the tests: together they record
    every test, and the mutants are scored as one process would score them."""
    first_passage = (
        "tests/retention/test_halt_points.py::test_without_a_count_the_first_passage_halts"
    )
    target = Target(FAULTS, [HALT_TEST, first_passage], 90)
    endless = Known(FAULTS, "halt_point: time.sleep(60) -> pass", "", "a busy wait", "equivalent")
    messages = []

    (result,) = run(
        [target], Config([target], [endless]), jobs=2, keep=tmp_path, log=messages.append
    )

    assert messages[0].startswith("baseline: 2 tests in ")
    assert messages[0].endswith(" (2 processes)")
    shares = [
        set(json.loads((tmp_path / f"baseline-{index}.json").read_text())["tests"])
        for index in range(2)
    ]
    assert sorted(map(len, shares)) == [1, 1]
    assert shares[0] | shares[1] == {HALT_TEST, first_passage}
    statuses = {outcome.mutant.key: outcome.status for outcome in result.outcomes}
    # The test without a count now tells the default count from another: nothing survives.
    assert set(statuses.values()) == {"killed", "equivalent"}
    assert {o.by for o in result.outcomes if o.status == "killed"} <= {HALT_TEST, first_passage}
    assert first_passage in {o.by for o in result.outcomes if o.status == "killed"}


def test_a_failing_share_of_the_baseline_stops_the_others_and_all_they_started(tmp_path):
    """One process's tests fail: the run stops with the failure, without waiting for the
    other process, which is stopped with what it started (here a child process, standing for
    a test's server).

    The failing test first waits until the other share has started its child: on a slow
    machine the failure could otherwise stop the other process before it started anything,
    and there would be no child to look for."""
    child_pid = tmp_path / "child.pid"
    tests = tmp_path / "test_shares.py"
    tests.write_text(
        "import os, subprocess, time\n"
        "def test_fails_once_the_other_share_has_started_its_child():\n"
        "    deadline = time.monotonic() + 120\n"
        f"    while not os.path.exists({str(child_pid)!r}) and time.monotonic() < deadline:\n"
        "        time.sleep(0.1)\n"
        "    assert False, 'this share fails'\n"
        "def test_runs_long():\n"
        "    child = subprocess.Popen(['sleep', '600'])\n"
        # Written whole, then renamed: the other share never reads a half-written file.
        f"    open({str(child_pid) + '.part'!r}, 'w').write(str(child.pid))\n"
        f"    os.rename({str(child_pid) + '.part'!r}, {str(child_pid)!r})\n"
        "    time.sleep(600)\n"
    )
    target = Target(FAULTS, [str(tests)], 90)
    started = time.monotonic()

    with pytest.raises(RunError, match="this share fails"):
        run([target], Config([target], []), jobs=2, keep=tmp_path / "run", log=lambda _: None)

    assert time.monotonic() - started < 300  # not the other share's ten minutes
    assert not _running(int(child_pid.read_text()))


def _running(pid: int) -> bool:
    """Whether the process runs: a killed one whose parent is gone may stay a zombie until
    the machine's first process reaps it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
