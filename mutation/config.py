"""``mutation/config.toml``: which modules are mutated, which tests may kill their mutants, the
score each must reach, and the mutants known to be equivalent or accepted; and choosing the
modules of a run (named, changed since a base, or the rotating one)."""

import datetime
import os
import subprocess
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = Path(__file__).with_name("config.toml")


class ConfigError(Exception):
    pass


@dataclass
class Target:
    """One mutated module and the tests related to it."""

    path: str  # relative to the repository, e.g. "logs/retention/ids.py"
    tests: list[str]  # test files or folders
    threshold: float  # the least score (percent) the module must reach


@dataclass
class Known:
    """Mutants the configuration names: ``equivalent`` (no test can tell it from the original;
    left out of the score), ``accepted`` (a survivor kept knowingly; still counted), or
    ``other_database`` (code only ``database`` runs: scored there, left out elsewhere)."""

    module: str
    mutant: str  # the key the report prints; or
    where: str  # every mutant of this function (other_database only)
    reason: str
    kind: str
    database: str = ""
    used: bool = False

    def matches(self, module: str, key: str, where: str) -> bool:
        if self.module != module:
            return False
        if self.mutant:
            return self.mutant == key
        return where == self.where or where.startswith(self.where + ".")


@dataclass
class Config:
    targets: list[Target]
    known: list[Known]
    # Tests never run against mutants: those that run the code in a child process, which
    # imports the file unmutated.
    ignore_tests: list[str] = field(default_factory=list)

    def target(self, path: str) -> Target | None:
        return next((target for target in self.targets if target.path == path), None)

    def known_for(self, module: str, key: str, where: str) -> Known | None:
        for known in self.known:
            if known.matches(module, key, where):
                known.used = True
                return known
        return None


def load(path: Path = CONFIG_PATH) -> Config:
    with open(path, "rb") as stream:
        data = tomllib.load(stream)
    targets: list[Target] = []
    for group in data.get("modules", []):
        paths = group.get("paths") or []
        tests = group.get("tests") or []
        if not paths or not tests:
            raise ConfigError(f"{path}: each [[modules]] needs paths and tests")
        threshold = float(group.get("threshold", data.get("threshold", 0)))
        for pattern in paths:
            matched = sorted(
                str(found.relative_to(ROOT))
                for found in ROOT.glob(pattern)
                if found.suffix == ".py" and found.is_file()
            )
            if not matched:
                raise ConfigError(f"{path}: {pattern!r} matches no Python file")
            for module in matched:
                if any(target.path == module for target in targets):
                    raise ConfigError(f"{path}: {module} is listed twice")
                targets.append(Target(module, list(tests), threshold))
    known = []
    for kind in ("equivalent", "accepted", "other_database"):
        for entry in data.get(kind, []):
            needed = ["module", "reason"] + (["database"] if kind == "other_database" else [])
            missing = [name for name in needed if not entry.get(name)]
            if kind != "other_database" and not entry.get("mutant"):
                missing.append("mutant")
            elif not (entry.get("mutant") or entry.get("where")):
                missing.append("mutant or where")
            if missing:
                raise ConfigError(f"{path}: an [[{kind}]] entry lacks {', '.join(missing)}")
            known.append(
                Known(
                    entry["module"],
                    entry.get("mutant", ""),
                    entry.get("where", ""),
                    entry["reason"],
                    kind,
                    entry.get("database", ""),
                )
            )
    return Config(targets, known, list(data.get("ignore_tests", [])))


def current_database() -> str:
    """The database the tests run on: the vendor DATABASE_URL names, SQLite by default."""
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"


# -- choosing the modules of a run -----------------------------------------------------------
def named(config: Config, names: list[str]) -> list[Target]:
    """The targets named: a module's path, a folder holding some, or a glob pattern."""
    chosen = []
    for name in names:
        clean = name.rstrip("/")
        matches = [
            target
            for target in config.targets
            if target.path == clean
            or target.path.startswith(clean + "/")
            or fnmatch(target.path, name)
        ]
        if not matches:
            known = ", ".join(target.path for target in config.targets)
            raise ConfigError(f"{name} is not a configured module (configured: {known})")
        chosen += [target for target in matches if target not in chosen]
    return chosen


def _git(*arguments: str) -> str | None:
    completed = subprocess.run(
        ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return completed.stdout if completed.returncode == 0 else None


def changed_files(base: str) -> set[str] | None:
    """Files that differ between where HEAD left ``base`` and the working tree (committed or
    not), and new untracked ones; None when ``base`` cannot be resolved."""
    merge_base = _git("merge-base", base, "HEAD")
    if merge_base is None:
        return None
    changed = _git("diff", "--name-only", merge_base.strip(), "--") or ""
    untracked = _git("ls-files", "--others", "--exclude-standard") or ""
    return {line for line in (changed + untracked).splitlines() if line}


def changed(config: Config, base: str) -> list[Target] | None:
    files = changed_files(base)
    if files is None:
        return None
    return [target for target in config.targets if target.path in files]


def rotation_number() -> int:
    """A number that changes from commit to commit (the day's when git cannot say), the same
    for every run of one commit."""
    head = _git("rev-parse", "HEAD")
    if head:
        return int(head.strip()[:12], 16)
    return datetime.date.today().toordinal()


def rotating(targets: list[Target]) -> Target:
    ordered = sorted(targets, key=lambda target: target.path)
    return ordered[rotation_number() % len(ordered)]
