"""Mutation testing of the modules whose mistakes would be wrong evidence (``python -m
mutation``; docs/internals/mutation-testing.md says how to run it).

Why a small runner of our own rather than mutmut or cosmic-ray: cosmic-ray runs the test
command once per mutant, in a new process, and each of those starts Django and migrates a test
database before its first test, which takes longer than the tests a mutant needs; most of a run
on two cores would be spent starting. mutmut 3 forks instead, but from a copy of the sources in
a ``mutants/`` folder whose functions reach each mutant through a trampoline, so Django would
import the project from that copy, and the test database is still made per mutant. Neither
lets a marked equivalent mutant carry its reason, which an auditor reading the score needs.

This runner keeps one pytest session per worker (pytest-django creates its test database once)
and puts each mutant in place in memory: the one top-level statement is compiled again with
the change and its code object swapped into the imported function, which keeps its identity,
so every reference to it runs the mutant. A baseline run records which lines each related
test runs, and each mutant runs only against those tests, fastest first, stopping at the first
failure: a module's run costs one baseline plus, per mutant, the few tests that reach it.

What that costs, knowingly:

- only code inside functions, methods, classes and module-level assignments is mutated;
- a changed module constant reaches the module's own code and the default values of its
  functions, but not another module that copied it at import (``from x import LIMIT``) nor a
  dataclass field's default, so such a mutant may survive where a file-based tool would kill
  it;
- a test that runs the code in a child process sees the original file: those tests are left
  out (``ignore_tests`` in ``config.toml``);
- a test stopped by its time limit ends its worker (a new one continues), and every test that
  killed a mutant runs again unmutated at the end, so a mutant that left state behind is
  reported, never counted.
"""
