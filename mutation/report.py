"""The scores and the survivors, for people (text) and for tools (JSON)."""

from mutation.runner import ModuleResult, Outcome


def _line(outcome: Outcome) -> list[str]:
    mutant = outcome.mutant
    lines = [f"  {mutant.module}:{mutant.line}  {mutant.key}"]
    lines.append(f"      - {mutant.before}")
    lines.append(f"      + {mutant.after}")
    if outcome.status == "uncovered":
        lines.append("      no related test runs this line")
    if outcome.reason:
        label = "accepted: " if outcome.accepted else "equivalent: "
        lines.append(f"      {'' if outcome.status == 'other database' else label}{outcome.reason}")
    if outcome.detail:
        lines.append(f"      {outcome.detail}")
    return lines


def summary(result: ModuleResult, threshold: float) -> str:
    score = result.score
    if not result.outcomes:
        return f"{result.target.path}: no code mutants"
    text = f"{result.target.path}: {result.killed} of {result.scored} mutants killed" + (
        f" ({score:.1f}%)" if score is not None else ""
    )
    notes = [
        f"{result.count(status)} {status}"
        for status in ("equivalent", "other database", "not applied", "not run")
        if result.count(status)
    ]
    if notes:
        text += f"; {', '.join(notes)}"
    not_run = result.count("not run")
    if not_run and result.best_score is not None:
        text += f" (cut short by the budget: at best {result.best_score:.1f}%)"
    if score is not None or not_run:
        text += f"  [{'ok' if result.passes(threshold) else 'BELOW'} {threshold:g}%]"
    return text


def text(results: list[ModuleResult], thresholds: dict[str, float], verbose: bool) -> str:
    lines = []
    for result in results:
        lines.append(summary(result, thresholds[result.target.path]))
        survivors = [o for o in result.outcomes if o.status in ("survived", "uncovered")]
        if survivors:
            lines.append(" survivors:")
            for outcome in survivors:
                lines += _line(outcome)
        others = [
            o
            for o in result.outcomes
            if o.status == "not applied"
            or (verbose and o.status in ("equivalent", "other database"))
        ]
        if others:
            lines.append(" not scored:")
            for outcome in others:
                lines += _line(outcome)
    return "\n".join(lines)


def as_json(results: list[ModuleResult], thresholds: dict[str, float]) -> dict:
    return {
        "modules": [
            {
                "module": result.target.path,
                "score": result.score,
                "threshold": thresholds[result.target.path],
                "killed": result.killed,
                "scored": result.scored,
                "mutants": [
                    {
                        "line": o.mutant.line,
                        "key": o.mutant.key,
                        "status": o.status,
                        "by": o.by,
                        "reason": o.reason,
                        "accepted": o.accepted,
                        "detail": o.detail,
                        "tests": o.tests,
                    }
                    for o in result.outcomes
                ],
            }
            for result in results
        ]
    }
