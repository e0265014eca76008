from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from logs.demo_data import generate_records
from logs.ingest.generated import store_generated_records
from logs.management.progress import ProgressBar


class Command(BaseCommand):
    help = (
        "Generate realistic Graph-shaped audit records (real activity names, some failures, "
        "some Microsoft Substrate Management write-backs) and store them like an import."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, required=True, metavar="N")
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help="repeatable output (same seed and --until, same records)",
        )
        parser.add_argument(
            "--until",
            default=None,
            metavar="DATETIME",
            help="the records fall in the 90 days before this ISO 8601 date-time "
            "(default: now, to the hour)",
        )

    def handle(self, *args, events, seed, until, **options):
        if events < 1:
            raise CommandError("--events must be at least 1.")
        window_end = _window_end(until)
        with ProgressBar("seed_demo_data", total=events, unit="events") as bar:
            result = store_generated_records(
                generate_records(events, seed=seed, window_end=window_end),
                label=f"seed_demo_data --events {events} --seed {seed}",
                on_progress=bar.update_to,
            )
        if result.rejected:
            raise CommandError(f"Generated records were rejected: {result.errors[:3]}")
        self.stdout.write(self.style.SUCCESS(f"Demo data: {result.summary()}"))


def _window_end(value: str | None) -> datetime:
    if value is None:
        return timezone.now().replace(minute=0, second=0, microsecond=0)
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(
            f"--until {value!r} is not an ISO 8601 date-time, e.g. 2026-11-25T12:00Z"
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
