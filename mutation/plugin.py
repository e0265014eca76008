"""The pytest side of ``python -m mutation``, loaded with ``-p mutation.plugin``.

``--mutation-baseline FILE`` runs the tests as usual and writes, for each, its outcome, its
duration and which lines of the ``--mutation-trace`` files it ran (``sys.settrace``, in every
thread). A mutant is only run against the tests that run its line. ``--mutation-shard I/N``
runs one of N shares of those tests, so that N processes record the baseline together.

``--mutation-plan FILE`` runs mutants instead of the tests: one pytest session, its test
database created once, and for each mutant: put it in place, run its tests (fastest first, each
set up and torn down as pytest does) until one fails, take it out, write one JSON line to
``--mutation-results``. Session fixtures are set up by an unmutated test first, so that no
mutant takes part in creating the test database. A test that runs too long is stopped by an
alarm and counts as killing the mutant (recorded at once); the worker then ends, so that what
the interrupted test left half done cannot spoil later results, and the runner starts a new one
for the rest. A test that swallows the interruption and runs on ends its worker shortly after.
At the end each test that killed a mutant runs once more unmutated: should one fail now, a
mutant left something behind and the results say so.
"""

import ast
import importlib
import io
import json
import os
import signal
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from _pytest.runner import runtestprotocol

from mutation import mutants as mutation


def pytest_addoption(parser):
    group = parser.getgroup("mutation", "mutation testing (python -m mutation)")
    group.addoption("--mutation-baseline", metavar="FILE", help="write per-test coverage here")
    group.addoption(
        "--mutation-trace", metavar="FILE", action="append", default=[], help="a mutated file"
    )
    group.addoption(
        "--mutation-shard",
        metavar="I/N",
        help="with --mutation-baseline, run only every Nth test, starting with the Ith (0-based)",
    )
    group.addoption("--mutation-plan", metavar="FILE", help="run the mutants of this plan")
    group.addoption("--mutation-results", metavar="FILE", help="append results here (JSONL)")


def pytest_configure(config):
    if config.getoption("mutation_baseline"):
        config.pluginmanager.register(Baseline(config), "mutation-baseline")
    elif config.getoption("mutation_plan"):
        config.pluginmanager.register(Worker(config), "mutation-worker")
    else:
        return
    _steady_hypothesis()


def _steady_hypothesis() -> None:
    """The same examples in the baseline and under every mutant, none saved in the project,
    and no deadline (tracing slows the baseline down)."""
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:
        return
    settings.register_profile(
        "mutation",
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    settings.load_profile("mutation")


class Baseline:
    def __init__(self, config):
        self.output = Path(config.getoption("mutation_baseline"))
        self.targets = {os.path.realpath(path) for path in config.getoption("mutation_trace")}
        self.tests: dict[str, dict] = {}
        self._resolved: dict[str, str | None] = {}
        self._lines = None
        self._calls = None

    def _target(self, filename: str) -> str | None:
        resolved = self._resolved.get(filename, False)
        if resolved is False:
            real = os.path.realpath(filename)
            resolved = self._resolved[filename] = real if real in self.targets else None
        return resolved

    def _trace(self, frame, event, arg):
        if self._lines is None:
            return None
        target = self._target(frame.f_code.co_filename)
        if target is None:
            return None
        self._calls[target].add(frame.f_code.co_firstlineno)
        lines = self._lines[target]

        def line_tracer(frame, event, arg):
            if event == "line":
                lines.add(frame.f_lineno)
            return line_tracer

        return line_tracer

    def pytest_collection_modifyitems(self, config, items):
        """A shard keeps every Nth test of the collection's order: tests of one module, which
        take about as long as each other, are spread over the shards."""
        shard = config.getoption("mutation_shard")
        if not shard:
            return
        index, count = (int(part) for part in shard.split("/"))
        kept = [item for position, item in enumerate(items) if position % count == index]
        dropped = [item for position, item in enumerate(items) if position % count != index]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept

    def pytest_sessionstart(self, session):
        sys.settrace(self._trace)
        threading.settrace(self._trace)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self._lines, self._calls = defaultdict(set), defaultdict(set)
        started = time.perf_counter()
        yield
        record = self.tests.setdefault(item.nodeid, {"outcome": "passed"})
        record["seconds"] = round(time.perf_counter() - started, 4)
        record["lines"] = {name: sorted(lines) for name, lines in self._lines.items()}
        record["calls"] = {name: sorted(lines) for name, lines in self._calls.items()}
        self._lines = self._calls = None

    def pytest_runtest_logreport(self, report):
        record = self.tests.setdefault(report.nodeid, {"outcome": "passed"})
        if report.failed:
            record["outcome"] = "failed"
        elif report.skipped and record["outcome"] == "passed":
            record["outcome"] = "skipped"

    def pytest_sessionfinish(self, session):
        sys.settrace(None)
        threading.settrace(None)
        self.output.write_text(json.dumps({"tests": self.tests}))


# After a test's time is up it is interrupted; if it still runs this much later, the worker
# ends itself with this status.
GRACE_SECONDS = 5
STUCK_EXIT_STATUS = 75


class MutantTimeout(BaseException):
    """A test ran past its time under a mutant (a BaseException: no ``except Exception`` in
    the code under test swallows it)."""


class Worker:
    def __init__(self, config):
        plan = json.loads(Path(config.getoption("mutation_plan")).read_text())
        self.entries = plan["mutants"]
        self.deadline = plan.get("deadline")
        self.results = open(config.getoption("mutation_results"), "a", encoding="utf-8")  # noqa: SIM115
        self._modules: dict[str, tuple] = {}
        self._armed = False
        self._fired = False
        self._testing: tuple[str, str] | None = None  # the mutant and the test running
        self._snapshot = _DatabaseSnapshot(config)

    def _write(self, record: dict) -> None:
        self.results.write(json.dumps(record) + "\n")
        self.results.flush()

    def _module(self, path: str):
        if path not in self._modules:
            name = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
            module = importlib.import_module(name)
            source = Path(module.__file__).read_text(encoding="utf-8")
            self._modules[path] = module, ast.parse(source, filename=module.__file__)
        return self._modules[path]

    def _alarm(self, signum, frame):
        if not self._armed:
            return
        if self._fired:
            # The interruption was swallowed (an ``except BaseException``, a callback that
            # ignores errors) and the test runs on: end the worker, a new one continues.
            os._exit(STUCK_EXIT_STATUS)
        self._fired = True
        if self._testing is not None:
            # Recorded before the test is interrupted: pytest may be building the report of a
            # deep failure when the alarm comes, and fail itself.
            ident, nodeid = self._testing
            self._write({"id": ident, "status": "killed", "by": nodeid, "timeout": True})
        signal.setitimer(signal.ITIMER_REAL, GRACE_SECONDS)
        raise MutantTimeout()

    def _run_test(self, item, seconds: float) -> tuple[bool, bool, str]:
        """Run one test as pytest would; (failed, stopped by the alarm, why it failed)."""
        self._fired = False
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            # Torn down to the session after each test: the next test may be anywhere.
            reports = runtestprotocol(item, log=False, nextitem=item.session)
        except MutantTimeout:
            return True, True, "stopped after its time"
        finally:
            self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        kind = _database_use(item)
        if kind == "transaction" and self._snapshot.taken:
            self._snapshot.restore()
        elif kind and not self._snapshot.taken:
            self._snapshot.take()
        failures = [report for report in reports if report.failed]
        why = failures[0].longreprtext if failures else ""
        return bool(failures) or self._fired, self._fired, why

    def _warm_up(self, items: dict) -> bool:
        """Set up every session fixture the plan's tests use, with no mutant in place: a test
        in a transaction first, so that the database is saved as the migrations left it."""
        done: set[str] = set()
        timeouts = {}
        for entry in self.entries:
            timeouts.update(zip(entry["tests"], entry["timeouts"], strict=True))
        order = {"": 1, "atomic": 0, "transaction": 2}
        for nodeid in sorted(timeouts, key=lambda n: order[_database_use(items[n])]):
            item = items[nodeid]
            needed = _session_fixtures(item) - done
            if not needed:
                continue
            failed, _, why = self._run_test(item, timeouts[nodeid] * 3)
            if failed:
                self._write({"error": f"{nodeid} fails with no mutant in place:\n{why}"})
                return False
            done |= needed
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        if session.testsfailed:
            raise session.Interrupted(f"{session.testsfailed} errors during collection")
        items = {item.nodeid: item for item in session.items}
        missing = {n for entry in self.entries for n in entry["tests"] if n not in items}
        if missing:
            self._write({"error": f"tests not collected: {sorted(missing)[:5]}"})
            return True
        signal.signal(signal.SIGALRM, self._alarm)
        if not self._warm_up(items):
            return True
        killers = {}
        for entry in self.entries:
            if self.deadline is not None and time.time() > self.deadline:
                break
            self._write({"id": entry["mutant"]["ident"], "status": "started"})
            result = self._run_mutant(entry, items)
            self._write({"id": entry["mutant"]["ident"], **result})
            if result.get("by"):
                killers[result["by"]] = entry["timeouts"][entry["tests"].index(result["by"])]
            if result.get("timeout"):
                # The stopped test may have left its fixtures half torn down: a new worker
                # takes the rest.
                return True
        for nodeid, seconds in killers.items():
            failed, _, why = self._run_test(items[nodeid], seconds * 3)
            if failed:
                self._write(
                    {"error": f"{nodeid} fails with no mutant in place after the run:\n{why}"}
                )
        self._write({"finished": True})
        return True

    def _run_mutant(self, entry: dict, items: dict) -> dict:
        mutant = mutation.Mutant.from_dict(entry["mutant"])
        module, tree = self._module(mutant.module)
        started = time.perf_counter()
        try:
            applied = mutation.apply(mutant, module, tree)
        except mutation.CannotApply as error:
            return {"status": "not applied", "detail": str(error)}
        try:
            for nodeid, seconds in zip(entry["tests"], entry["timeouts"], strict=True):
                self._testing = entry["mutant"]["ident"], nodeid
                try:
                    failed, stopped, why = self._run_test(items[nodeid], seconds)
                finally:
                    self._testing = None
                if failed:
                    return {
                        "status": "killed",
                        "by": nodeid,
                        "why": _first_error(why),
                        "timeout": stopped,
                        "seconds": round(time.perf_counter() - started, 3),
                    }
            return {"status": "survived", "seconds": round(time.perf_counter() - started, 3)}
        finally:
            applied.undo()


def _session_fixtures(item) -> set[str]:
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return {
        name
        for name, defs in definitions.items()
        if defs and getattr(defs[-1], "scope", "") in ("session", "package")
    }


def _first_error(text: str) -> str:
    """The line of a failure that says what failed: pytest's first ``E`` line."""
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    lines = [line for line in lines if line] or text.strip().splitlines()[-1:] or [""]
    return lines[0][:300]


def _database_use(item) -> str:
    """ "transaction" for a test that commits (its database is emptied afterwards), "atomic"
    for one rolled back, "" for one without the database: as pytest-django decides."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    transaction = False
    if marker is not None:
        transaction = bool(marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
        if marker.args:
            transaction = transaction or bool(marker.args[0])
    if transaction or "transactional_db" in fixtures or "live_server" in fixtures:
        return "transaction"
    if marker is not None or "db" in fixtures:
        return "atomic"
    return ""


class _DatabaseSnapshot:
    """The test database as the migrations left it (their data: groups, permissions), put back
    after each test that commits.

    pytest-django runs the tests that commit last, since each empties the database when it
    ends; here any test may follow one, so the contents are restored as Django's serialized
    rollback restores them.
    """

    def __init__(self, config):
        self.config = config
        self.contents: dict[str, str] | None = None

    @property
    def taken(self) -> bool:
        return self.contents is not None

    def _unblocked(self):
        from pytest_django.plugin import blocking_manager_key

        return self.config.stash[blocking_manager_key].unblock()

    def take(self) -> None:
        from django.db import connections

        with self._unblocked():
            self.contents = {
                alias: connections[alias].creation.serialize_db_to_string()
                for alias in connections
                if not connections[alias].settings_dict.get("TEST", {}).get("MIRROR")
            }

    def restore(self) -> None:
        from django.core.management import call_command

        with self._unblocked():
            for alias, contents in self.contents.items():
                call_command(
                    "flush",
                    verbosity=0,
                    interactive=False,
                    database=alias,
                    allow_cascade=True,
                    inhibit_post_migrate=True,
                )
                _insert_serialized(alias, contents)


def _insert_serialized(alias: str, contents: str) -> None:
    """Put back the serialized rows of a flushed database, inserting only.

    Django's ``deserialize_db_from_string`` saves each row with its id set, which tries an
    UPDATE first: on PostgreSQL the immutable tables' statement triggers refuse any UPDATE,
    even one that would match no row (the compression dictionary that migration 0027 stores).
    The tables are empty after the flush, so an insert is all each row needs.
    """
    from django.core import serializers
    from django.db import connections, transaction

    connection = connections[alias]
    tables = set()
    with transaction.atomic(using=alias):
        # Rows may refer to rows later in the stream.
        with connection.constraint_checks_disabled():
            for deserialized in serializers.deserialize("json", io.StringIO(contents), using=alias):
                deserialized.save(using=alias, force_insert=True)
                tables.add(deserialized.object._meta.db_table)
        connection.check_constraints(table_names=tables)
