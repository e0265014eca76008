"""The mutation runner's own parts: which mutants a module gets, how one is put in place in a
running module and taken out again exactly, and the configuration that names them."""

import sys
import textwrap
import types

import pytest

from mutation import config as configuration
from mutation.mutants import CannotApply, apply, generate
from mutation.runner import ModuleResult, Outcome

SOURCE = textwrap.dedent(
    '''
    """A module."""

    LIMIT = 10


    def check(value: int, strict: bool = False, limit: int = LIMIT) -> int:
        """Checks."""
        if value <= limit and not strict:
            return min(value, 3) + 1
        raise ValueError("too big")


    class Refusal(Exception):
        def __init__(self, field: str):
            self.field = field
            super().__init__(f"refused: {field}")
    '''
)


def keys(source: str) -> list[str]:
    return [mutant.key for mutant in generate("example.py", source)]


def test_code_is_mutated_strings_docstrings_and_annotations_are_not():
    assert keys(SOURCE) == [
        "<module>: LIMIT = 10 -> LIMIT = 11",
        "check: def check(value: int, strict: bool = False, limit: int = LIMIT) -> int: -> "
        "def check(value: int, strict: bool = True, limit: int = LIMIT) -> int:",
        "check: if value <= limit and not strict: -> if value <= limit or not strict:",
        "check: if value <= limit and not strict: -> if value < limit and not strict:",
        "check: if value <= limit and not strict: -> if value <= limit and strict:",
        "check: return min(value, 3) + 1 -> return None",
        "check: return min(value, 3) + 1 -> return min(value, 3) - 1",
        "check: return min(value, 3) + 1 -> return min(value, 3) + 2",
        "check: return min(value, 3) + 1 -> return max(value, 3) + 1",
        "check: return min(value, 3) + 1 -> return min(value, 4) + 1",
        'check: raise ValueError("too big") -> pass',
        'Refusal.__init__: super().__init__(f"refused: {field}") -> pass',
    ]
    (default,) = [m for m in generate("example.py", SOURCE) if m.change == (True,)]
    assert (default.scope, default.mutated) == ("called", "True")


def test_a_line_changed_the_same_way_twice_is_numbered():
    source = "def twice(a):\n    a.append(1)\n    a.append(1)\n"
    assert keys(source) == [
        "twice: a.append(1) -> pass",
        "twice: a.append(1) -> a.append(2)",
        "twice: a.append(1) -> pass #2",
        "twice: a.append(1) -> a.append(2) #2",
    ]


def test_a_pragma_marks_a_line_equivalent_and_must_say_why():
    (mutant,) = generate("x.py", "SIZE = 4  # mutation: equivalent - only a buffer size\n")
    assert mutant.pragma == "only a buffer size"
    with pytest.raises(ValueError, match="line 1: an equivalence pragma needs a reason"):
        generate("x.py", "SIZE = 4  # mutation: equivalent\n")


@pytest.fixture
def module(tmp_path):
    """``SOURCE`` imported as a module of its own, and its syntax tree."""
    import ast

    path = tmp_path / "example_module.py"
    path.write_text(SOURCE)
    module = types.ModuleType("example_module")
    module.__file__ = str(path)
    exec(compile(SOURCE, str(path), "exec"), vars(module))
    sys.modules["example_module"] = module
    yield module, ast.parse(SOURCE)
    del sys.modules["example_module"]


def mutant(key: str):
    (found,) = [m for m in generate("example.py", SOURCE) if m.key == key]
    return found


def test_a_function_takes_the_mutant_s_code_and_keeps_its_identity(module):
    example, tree = module
    imported_elsewhere = example.check  # as "from example import check" holds it

    applied = apply(
        mutant("check: if value <= limit and not strict: -> if value < limit and not strict:"),
        example,
        tree,
    )
    assert example.check is imported_elsewhere
    with pytest.raises(ValueError):
        imported_elsewhere(10)

    applied.undo()
    assert imported_elsewhere(10) == 4


def test_a_changed_constant_reaches_the_defaults_read_from_it(module):
    example, tree = module
    applied = apply(mutant("<module>: LIMIT = 10 -> LIMIT = 11"), example, tree)
    assert (example.LIMIT, example.check(11)) == (11, 4)
    applied.undo()
    assert example.LIMIT == 10
    with pytest.raises(ValueError):
        example.check(11)


def test_a_method_that_no_longer_calls_super_still_takes_the_mutant(module):
    example, tree = module
    applied = apply(
        mutant('Refusal.__init__: super().__init__(f"refused: {field}") -> pass'), example, tree
    )
    assert str(example.Refusal("name")) == "name"  # Exception.__new__ kept the argument
    applied.undo()
    assert str(example.Refusal("name")) == "refused: name"


def test_a_mutant_whose_statement_fails_to_run_is_not_applied(tmp_path):
    import ast

    source = "VALUES = {1: 'a'}\nLOOKUP = VALUES[1]\n"
    path = tmp_path / "lookup_module.py"
    path.write_text(source)
    module = types.ModuleType("lookup_module")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), vars(module))
    (index_mutant,) = [m for m in generate("x.py", source) if m.key.startswith("<module>: LOOKUP")]
    with pytest.raises(CannotApply, match="fails to run"):
        apply(index_mutant, module, ast.parse(source))
    assert module.LOOKUP == "a"


def test_the_configuration_names_known_mutants_by_key_or_function(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        textwrap.dedent(
            """
            ignore_tests = ["tests/slow.py"]

            [[modules]]
            paths = ["logs/retention/ids.py"]
            tests = ["tests/retention"]
            threshold = 90

            [[equivalent]]
            module = "logs/retention/ids.py"
            mutant = "id_ranges: a -> b"
            reason = "the same"

            [[other_database]]
            module = "logs/retention/ids.py"
            where = "_array"
            database = "postgresql"
            reason = "an array literal"
            """
        )
    )
    loaded = configuration.load(path)
    assert [(t.path, t.tests, t.threshold) for t in loaded.targets] == [
        ("logs/retention/ids.py", ["tests/retention"], 90.0)
    ]
    assert loaded.ignore_tests == ["tests/slow.py"]
    assert loaded.known_for("logs/retention/ids.py", "id_ranges: a -> b", "id_ranges").kind == (
        "equivalent"
    )
    assert loaded.known_for("logs/retention/ids.py", "_array: x -> y", "_array").database == (
        "postgresql"
    )
    assert loaded.known_for("logs/retention/ids.py", "_array: x -> y", "_arrays") is None

    path.write_text('[[equivalent]]\nmodule = "x.py"\nmutant = "k"\n')
    with pytest.raises(
        configuration.ConfigError, match=r"an \[\[equivalent\]\] entry lacks reason"
    ):
        configuration.load(path)


def test_a_module_cut_short_fails_only_when_it_can_no_longer_reach_its_threshold():
    def result(*statuses):
        target = configuration.Target("m.py", ["tests"], 90)
        outcomes = [Outcome(generate("m.py", "X = 1\n")[0], status) for status in statuses]
        return ModuleResult(target, outcomes)

    complete = result(*["killed"] * 9, "survived")
    assert (complete.score, complete.passes(90), complete.passes(91)) == (90.0, True, False)
    cut_short = result(*["killed"] * 5, "survived", *["not run"] * 4)
    assert (cut_short.best_score, cut_short.passes(90)) == (90.0, True)
    hopeless = result(*["killed"] * 5, "survived", "survived", *["not run"] * 3)
    assert hopeless.passes(90) is False
    marked = result("killed", "equivalent", "other database")
    assert (marked.scored, marked.score) == (1, 100.0)
