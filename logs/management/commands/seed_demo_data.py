from django.core.management.base import BaseCommand, CommandError

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
            "--seed", type=int, default=None, help="repeatable output (same seed, same records)"
        )

    def handle(self, *args, events, seed, **options):
        if events < 1:
            raise CommandError("--events must be at least 1.")
        with ProgressBar("seed_demo_data", total=events, unit="events") as bar:
            result = store_generated_records(
                generate_records(events, seed=seed),
                label=f"seed_demo_data --events {events} --seed {seed}",
                on_progress=bar.update_to,
            )
        if result.rejected:
            raise CommandError(f"Generated records were rejected: {result.errors[:3]}")
        self.stdout.write(self.style.SUCCESS(f"Demo data: {result.summary()}"))
