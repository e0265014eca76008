"""``insights``: the compliance answers (logs.insights) as readable text or as the API's JSON.

``audit_report``, its former name, runs this same command."""

import json

from django.core.management.base import BaseCommand, CommandError

from logs.display_time import utc_text
from logs.insights.builder import compliance_report
from logs.insights.forms import ReportParametersForm
from logs.routing import read_only_queries


class Command(BaseCommand):
    help = (
        "Answer the compliance questions for a period (default: the last 30 days): changes "
        "to users, passwords, groups, owners, licences, applications, service principals and "
        "renames. --format json prints what /api/v1/insights/ returns."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", metavar="ISO", help="ISO 8601 date-time (default: 30 days before --until)"
        )
        parser.add_argument("--until", metavar="ISO", help="ISO 8601 date-time (default: now)")
        parser.add_argument("--service", metavar="NAME", help='e.g. "Core Directory"')
        parser.add_argument(
            "--exclude-informational",
            action="store_true",
            help="leave out events annotated informational (Substrate write-backs)",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    # Only reads audit events: the read replica may answer (logs.routing).
    @read_only_queries()
    def handle(self, *args, **options):
        form = ReportParametersForm(
            {
                "since": options["since"],
                "until": options["until"],
                "service": options["service"],
                "exclude_informational": "true" if options["exclude_informational"] else "",
            }
        )
        if not form.is_valid():
            raise CommandError(
                "; ".join(
                    f"--{name.replace('_', '-')}: {' '.join(messages)}"
                    for name, messages in form.errors.items()
                )
            )
        report = compliance_report(form.period())
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(render_text(report))


def render_text(report) -> str:
    period = report.period
    lines = [
        f"Compliance answers, {utc_text(period.since)} to {utc_text(period.until)}"
        + (f", service {period.service}" if period.service else "")
        + (", informational events excluded" if period.exclude_informational else ""),
        f"{report.totals['events']} events, {report.totals['failures']} failures. Only applied "
        "changes (result success) are counted.",
    ]
    for title, answers in report.sections():
        lines += ["", title, "=" * len(title)]
        for answer in answers.values():
            lines.append(f"{answer.question}: {answer.count}")
            for row in answer.by_activity:
                lines.append(f"    {row['count']:>8}  {row['activity']}")
            failed = answer.extra.get("failed")
            if failed is not None:
                lines.append(f"    failed attempts: {failed['count']}")
            for licence in answer.extra.get("licences", []):
                lines.append(
                    f"    {licence['sku']}: assigned {licence['assigned']}, "
                    f"removed {licence['removed']}"
                )
            for item in answer.items:
                lines.append(f"    - {_item_text(item)}")
            if answer.items_truncated:
                lines.append(f"    ... {answer.items_total - len(answer.items)} more")
    return "\n".join(lines)


def _item_text(item: dict) -> str:
    when = item.get("activity_datetime", "")[:19].replace("T", " ")
    event = f"(event {item['event_id']})" if "event_id" in item else ""
    if "old_name" in item:
        return f"{when} {item['old_name']} → {item['new_name']} {event}"
    if "owner" in item:
        return f"{when} {item['owner']} {item['change']} as owner of {item['group']} {event}"
    if "assigned" in item:
        changes = [f"+{sku}" for sku in item["assigned"]] + [f"-{sku}" for sku in item["removed"]]
        return f"{when} {item['target_type']} {item['target']}: {' '.join(changes)} {event}"
    if "group" in item:
        return f"{when} {item['group']} by {item['initiated_by']} {event}"
    changes = ", ".join(f"{verb} {count}" for verb, count in item["changes"].items())
    return f"{item['name'] or item['object_id']}: {changes}"
