"""``python -m mutation`` end to end, on a small module and one test: the baseline, a worker
process, the kills, the survivor and an equivalent mutant named in the configuration."""

import json

from mutation import report
from mutation.config import Config, Known, Target
from mutation.runner import run

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
