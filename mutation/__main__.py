"""``python -m mutation [MODULE ...] [--all] [--changed REF] [--rotate] [--budget S] ...``.

Exit status: 0 when every module run reaches its threshold, 1 when one does not, 2 when the
run itself failed (a related test fails unmutated, a worker could not run).
"""

import argparse
import json
import sys
from pathlib import Path

from mutation import config as configuration
from mutation import report
from mutation.mutants import generate
from mutation.runner import RunError, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mutation",
        description="Mutation testing of the configured modules (mutation/config.toml) against "
        "their related tests: prints each module's score and its surviving mutants.",
    )
    parser.add_argument(
        "modules", nargs="*", help="configured modules (a path, a folder of them, or a glob)"
    )
    parser.add_argument("--all", action="store_true", help="every configured module")
    parser.add_argument(
        "--changed",
        metavar="REF",
        help="the modules that differ from where HEAD left REF (committed or not)",
    )
    parser.add_argument(
        "--rotate",
        action="store_true",
        help="with nothing else chosen (or nothing changed): the module whose turn it is, "
        "chosen by the commit",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="processes recording the baseline, then running mutants (default 2)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="start no mutant after this long, counted once the baseline has run; the modules "
        "are then taken one after another, starting with the one whose turn it is",
    )
    parser.add_argument(
        "--fail-under", type=float, metavar="PERCENT", help="instead of each module's threshold"
    )
    parser.add_argument(
        "--tests",
        nargs="+",
        metavar="PATH",
        help="only these tests, instead of the related ones (which mutants do they kill?)",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the mutants and their keys; run nothing"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="list the equivalent mutants and those of the other database too",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="keep the run's files (plans, results, logs) here"
    )
    return parser


def _chosen(args, config, parser) -> list[configuration.Target]:
    chosen = configuration.named(config, args.modules) if args.modules else []
    if args.all:
        chosen = list(config.targets)
    if args.changed:
        changed = configuration.changed(config, args.changed)
        if changed is None:
            print(f"mutation: cannot compare with {args.changed!r}; no module counts as changed")
            changed = []
        chosen += [target for target in changed if target not in chosen]
        print("mutation: changed modules: " + (", ".join(t.path for t in changed) or "none"))
    if args.rotate and not chosen:
        with_mutants = [
            target
            for target in config.targets
            if generate(target.path, (configuration.ROOT / target.path).read_text())
        ]
        turn = configuration.rotating(with_mutants)
        print(f"mutation: the rotating module: {turn.path}")
        chosen = [turn]
    if not chosen and not (args.changed or args.rotate):
        parser.error("name modules, or give --all, --changed REF or --rotate")
    return chosen


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        config = configuration.load()
        targets = _chosen(args, config, parser)
    except configuration.ConfigError as error:
        print(f"mutation: {error}", file=sys.stderr)
        return 2
    if not targets:
        print("mutation: no module to run")
        return 0
    if args.tests:
        for target in targets:
            target.tests = list(args.tests)
    if args.list:
        for target in targets:
            source = (configuration.ROOT / target.path).read_text()
            for mutant in generate(target.path, source):
                print(f"{mutant.module}:{mutant.line}  {mutant.key}")
        return 0
    try:
        results = run(targets, config, jobs=args.jobs, budget=args.budget, keep=args.keep)
    except RunError as error:
        print(f"mutation: {error}", file=sys.stderr)
        return 2
    thresholds = {
        target.path: args.fail_under if args.fail_under is not None else target.threshold
        for target in targets
    }
    print(report.text(results, thresholds, args.verbose))
    paths = {target.path for target in targets}
    stale = [k for k in config.known if k.module in paths and not k.used]
    for known in stale:
        print(f"mutation: no mutant of {known.module} is {known.mutant!r} any more ({known.kind})")
    if args.json:
        args.json.write_text(json.dumps(report.as_json(results, thresholds), indent=2))
    below = [r for r in results if not r.passes(thresholds[r.target.path])]
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
