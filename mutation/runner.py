"""Running the mutants of the chosen modules: one baseline, then workers, then the scores.

1. Generate each module's mutants; those the configuration or a pragma marks equivalent, and
   those of code only the other database runs, are not run.
2. Baseline: ``jobs`` pytest processes, each a share of the related tests, run every one once,
   unmutated, recording which lines of the modules each test runs (``mutation.plugin``). Any
   failure stops here: a mutant is only meaningful against passing tests.
3. Each mutant gets the tests related to its module that run its line (all of the module's
   tests for a module-level constant), fastest first; a mutant that no related test runs
   survives, and the report says so.
4. ``jobs`` worker processes share the mutants; a worker that ends early (a test stopped by
   its alarm, a crash) is replaced for the rest. With a budget (counted from the end of the
   baseline, which every score needs whole), no mutant starts after it runs out; the modules
   are taken one after another, starting with a different one from commit to commit, so that
   at most one module is cut short and each gets its turn.
"""

import contextlib
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mutation.config import ROOT, Config, Target, current_database, rotation_number
from mutation.mutants import Mutant, generate

# A test under a mutant is stopped after this many times its baseline duration (which tracing
# lengthens already), and never sooner than the floor: a shared machine runs slower at times,
# and a test stopped for that would count as a kill.
TIMEOUT_FACTOR = 5
TIMEOUT_FLOOR = 10.0


class RunError(Exception):
    pass


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, survived, uncovered, equivalent, other database, not applied, not run
    by: str = ""  # the test that killed it
    reason: str = ""  # why equivalent or accepted
    accepted: bool = False
    detail: str = ""
    tests: int = 0  # how many tests it was run against


@dataclass
class ModuleResult:
    target: Target
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(outcome.status in statuses for outcome in self.outcomes)

    @property
    def killed(self) -> int:
        return self.count("killed")

    @property
    def scored(self) -> int:
        """Mutants the score counts: every non-equivalent one that was run or that no test
        runs."""
        return self.count("killed", "survived", "uncovered")

    @property
    def score(self) -> float | None:
        return 100.0 * self.killed / self.scored if self.scored else None

    @property
    def best_score(self) -> float | None:
        """The score if every mutant the budget left unrun were killed."""
        not_run = self.count("not run")
        total = self.scored + not_run
        return 100.0 * (self.killed + not_run) / total if total else None

    def passes(self, threshold: float) -> bool:
        """Below the threshold fails only when certain: a module the budget cut short passes
        while its unrun mutants could still lift it to the threshold."""
        return self.best_score is None or self.best_score >= threshold


def _pytest() -> list[str]:
    # Run from a scratch folder (see ``_scratch``) with the project's configuration.
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "mutation.plugin",
        "-p",
        "no:cacheprovider",
        f"--rootdir={ROOT}",
        f"-c={ROOT / 'pyproject.toml'}",
    ]


def _scratch(folder: Path) -> Path:
    """The working folder of the test processes: a mutant that turns a URL into a relative
    path, say, writes there and not into the project."""
    scratch = folder / "scratch"
    scratch.mkdir(exist_ok=True)
    return scratch


def _environment(number: int) -> dict:
    """The process's environment: the project importable from the scratch folder, and on
    PostgreSQL a test database for each process (pytest-django names it after DATABASE_URL's
    database)."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), environment.get("PYTHONPATH")])
    )
    url = environment.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        name = parts.path.lstrip("/") or "auditportal"
        environment["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}_mutation{number}"))
    environment.setdefault("PYTHONUNBUFFERED", "1")
    return environment


def _under(nodeid: str, paths: list[str]) -> bool:
    """Whether the test ``nodeid`` is one of ``paths``: folders, files or test ids."""
    return any(
        nodeid == path or nodeid.startswith((path.rstrip("/") + "/", path + "::", path + "["))
        for path in paths
    )


def _ignore_arguments(config: Config) -> list[str]:
    return [
        f"--deselect={path}" if "::" in path else f"--ignore={ROOT / path}"
        for path in config.ignore_tests
    ]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class _Shard:
    """One baseline process: its share of the tests, its output and its log."""

    process: subprocess.Popen | None
    stream: object
    output: Path
    log_path: Path

    def failed(self) -> bool:
        return self.process.returncode not in (0, 5) or not self.output.exists()

    def stop(self) -> None:
        """Stop the process and all it started (a test's server, say), then wait for it."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            self.process.wait()


def baseline(targets: list[Target], config: Config, folder: Path, log, jobs: int = 1) -> dict:
    """Every related test run once, unmutated, with the lines it runs recorded: ``jobs``
    processes at once, each a share of the tests (tracing makes this the run's longest step).
    The first to fail stops the others at once."""
    tests = sorted({path for target in targets for path in target.tests})
    started = time.monotonic()
    shards: list[_Shard] = []
    try:
        for index in range(jobs):
            output = folder / f"baseline-{index}.json"
            log_path = folder / f"baseline-{index}.log"
            command = [
                *_pytest(),
                "-q",
                f"--mutation-baseline={output}",
                f"--mutation-shard={index}/{jobs}",
                *(f"--mutation-trace={ROOT / target.path}" for target in targets),
                *_ignore_arguments(config),
                *(str(ROOT / path) for path in tests),
            ]
            stream = open(log_path, "w")  # noqa: SIM115 - closed in the finally below
            shards.append(_Shard(None, stream, output, log_path))
            shards[-1].process = subprocess.Popen(
                command,
                cwd=_scratch(folder),
                env=_environment(index),
                stdout=stream,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        running = list(shards)
        while running:
            time.sleep(0.2)
            for shard in [shard for shard in running if shard.process.poll() is not None]:
                running.remove(shard)
                if shard.failed():
                    raise RunError(
                        "The related tests fail without any mutant; fix them first.\n"
                        + _tail(shard.log_path)
                    )
    finally:
        for shard in shards:
            if shard.process is not None:
                shard.stop()
            shard.stream.close()
    recorded: dict = {}
    for shard in shards:
        recorded.update(json.loads(shard.output.read_text())["tests"])
    failed = sorted(nodeid for nodeid, record in recorded.items() if record["outcome"] == "failed")
    if failed:
        raise RunError("These tests fail without any mutant: " + ", ".join(failed[:10]))
    log(f"baseline: {len(recorded)} tests in {time.monotonic() - started:.0f} s ({jobs} processes)")
    return recorded


def _covering(mutant: Mutant, tests: dict, paths: list[str]) -> list[tuple[str, float]]:
    file = str(ROOT / mutant.module)
    chosen = []
    for nodeid, record in tests.items():
        if record["outcome"] != "passed" or not _under(nodeid, paths):
            continue
        if mutant.scope == "body":
            lines = record["lines"].get(file, ())
            if not any(mutant.line <= line <= mutant.end_line for line in lines):
                continue
        elif mutant.scope == "called" and mutant.scope_line not in record["calls"].get(file, ()):
            continue
        chosen.append((nodeid, record["seconds"]))
    return sorted(chosen, key=lambda pair: (pair[1], pair[0]))


class _Worker:
    """One worker process over a share of the plan, replaced when it ends early."""

    def __init__(self, number: int, entries: list[dict], folder: Path, deadline: float | None):
        self.number = number
        self.remaining = list(entries)
        self.folder = folder
        self.deadline = deadline
        self.results: dict[str, dict] = {}
        self.errors: list[str] = []
        self.process = None
        self.launches = 0
        self._read = 0
        self._current: tuple[str, float] | None = None

    @property
    def results_path(self) -> Path:
        return self.folder / f"worker-{self.number}.jsonl"

    @property
    def log_path(self) -> Path:
        return self.folder / f"worker-{self.number}.log"

    def start(self) -> None:
        self.launches += 1
        plan = self.folder / f"plan-{self.number}-{self.launches}.json"
        plan.write_text(json.dumps({"mutants": self.remaining, "deadline": self.deadline}))
        files = sorted({nodeid.split("::", 1)[0] for e in self.remaining for nodeid in e["tests"]})
        command = [
            *_pytest(),
            "-q",
            # One line for a failure: the report of a deep recursion, in full, can take
            # longer than the test's time.
            "--tb=line",
            f"--mutation-plan={plan}",
            f"--mutation-results={self.results_path}",
            *(str(ROOT / file) for file in files),
        ]
        stream = open(self.log_path, "a")  # noqa: SIM115 - closed when the process ends
        self.process = subprocess.Popen(
            command,
            cwd=_scratch(self.folder),
            env=_environment(self.number),
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.process.log_stream = stream
        self._current = None

    def _read_results(self) -> None:
        if not self.results_path.exists():
            return
        with open(self.results_path) as stream:
            stream.seek(self._read)
            for line in stream:
                if not line.endswith("\n"):
                    break
                self._read += len(line.encode())
                record = json.loads(line)
                if "error" in record:
                    self.errors.append(record["error"])
                elif record.get("status") == "started":
                    self._current = (record["id"], time.monotonic())
                elif "id" in record:
                    self.results[record["id"]] = record
                    self._current = None

    def _limit(self, ident: str) -> float:
        entry = next(e for e in self.remaining if e["mutant"]["ident"] == ident)
        return sum(entry["timeouts"]) + 60

    def poll(self) -> bool:
        """Read what the worker wrote, replace it if it ended early; False once it is done."""
        if self.process is None:
            return False
        self._read_results()
        if self._current is not None:
            ident, since = self._current
            if time.monotonic() - since > self._limit(ident):
                # Stuck where the alarm cannot reach (inside a C call): stop the process.
                os.killpg(self.process.pid, 9)
        if self.process.poll() is None:
            return True
        self.process.log_stream.close()
        self._read_results()
        if self._current is not None:
            if self.process.returncode >= 0:
                # Ended by itself in the middle of a mutant: pytest failed, not a test.
                self.errors.append(f"a worker stopped (exit status {self.process.returncode})")
                self.process = None
                return False
            # Killed by a signal during a mutant (or by us, stuck): the mutant stopped its tests.
            ident = self._current[0]
            self.results[ident] = {"id": ident, "status": "killed", "by": "", "crash": True}
            self._current = None
        done_before = len(self.remaining)
        self.remaining = [e for e in self.remaining if e["mutant"]["ident"] not in self.results]
        self.process = None
        if self.errors:
            return False
        out_of_time = self.deadline is not None and time.time() > self.deadline
        if self.remaining and not out_of_time:
            if len(self.remaining) == done_before and self.launches > 1:
                self.errors.append("a worker ended twice without running a mutant")
                return False
            self.start()
            return True
        return False


def run(
    targets: list[Target],
    config: Config,
    *,
    jobs: int = 2,
    budget: float | None = None,
    keep: Path | None = None,
    log=None,
) -> list[ModuleResult]:
    """Run the mutants of ``targets``; ``keep`` names a folder that keeps the run's files (the
    baseline, the plans, each worker's results and output)."""
    log = log or functools.partial(print, flush=True)
    started = time.time()
    database = current_database()
    results = []
    to_run: list[tuple[ModuleResult, Outcome]] = []
    for target in targets:
        result = ModuleResult(target)
        source = (ROOT / target.path).read_text(encoding="utf-8")
        for mutant in generate(target.path, source):
            known = config.known_for(target.path, mutant.key, mutant.where)
            outcome = Outcome(mutant, "pending")
            if mutant.pragma is not None:
                outcome.status, outcome.reason = "equivalent", mutant.pragma
            elif known is None:
                pass
            elif known.kind == "equivalent":
                outcome.status, outcome.reason = "equivalent", known.reason
            elif known.kind == "accepted":
                outcome.accepted, outcome.reason = True, known.reason
            elif known.database != database:
                outcome.status = "other database"
                outcome.reason = f"runs only on {known.database}: {known.reason}"
            result.outcomes.append(outcome)
            if outcome.status == "pending":
                to_run.append((result, outcome))
        results.append(result)
    if not to_run:
        return results
    with tempfile.TemporaryDirectory(prefix="mutation-") as temporary:
        folder = Path(keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        tests = baseline(targets, config, folder, log, jobs)
        # The budget is the mutants': every score needs the whole baseline.
        deadline = time.time() + budget if budget else None
        entries = []
        for result, outcome in to_run:
            covering = _covering(outcome.mutant, tests, result.target.tests)
            if not covering:
                outcome.status = "uncovered"
                continue
            outcome.tests = len(covering)
            entries.append(
                {
                    "mutant": {**outcome.mutant.as_dict(), "ident": outcome.mutant.ident},
                    "tests": [nodeid for nodeid, _ in covering],
                    "timeouts": [
                        max(TIMEOUT_FLOOR, seconds * TIMEOUT_FACTOR) for _, seconds in covering
                    ],
                }
            )
        if budget:
            # Module after module, starting with the one whose turn it is: the budget cuts
            # short at most one module, and a different one from commit to commit.
            paths = [target.path for target in targets]
            first = rotation_number() % len(paths)
            turn = {path: (index - first) % len(paths) for index, path in enumerate(paths)}
            entries.sort(key=lambda entry: turn[entry["mutant"]["module"]])
        by_ident = {outcome.mutant.ident: outcome for _, outcome in to_run}
        workers = [
            _Worker(number, entries[number - 1 :: jobs], folder, deadline)
            for number in range(1, jobs + 1)
        ]
        log(f"running {len(entries)} mutants on {jobs} worker(s)")
        for worker in workers:
            if worker.remaining:
                worker.start()
        last_report = time.monotonic()
        while any([worker.poll() for worker in workers]):
            time.sleep(0.5)
            if time.monotonic() - last_report > 60:
                done = sum(len(worker.results) for worker in workers)
                log(f"  {done} of {len(entries)} mutants done")
                last_report = time.monotonic()
        errors = [error for worker in workers for error in worker.errors]
        if errors:
            logs = "\n".join(_tail(worker.log_path) for worker in workers)
            raise RunError("The mutant runs failed: " + "; ".join(errors) + "\n" + logs)
        for worker in workers:
            for ident, record in worker.results.items():
                outcome = by_ident[ident]
                outcome.status = record["status"]
                outcome.by = record.get("by", "")
                outcome.detail = (
                    "stopped after its time"
                    if record.get("timeout")
                    else "the test process died"
                    if record.get("crash")
                    else record.get("detail") or record.get("why", "")
                )
        for _, outcome in to_run:
            if outcome.status == "pending":
                outcome.status = "not run"
    log(f"done in {time.time() - started:.0f} s")
    return results
