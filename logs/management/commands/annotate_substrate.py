from django.core.management.base import BaseCommand

from logs.access_trail import operating_system_user, record_access
from logs.annotations import annotate_substrate
from logs.models import AccessRecord

SOURCE = "annotate_substrate"


class Command(BaseCommand):
    help = (
        "Annotate stored Microsoft Substrate Management write-backs (Exchange Online's "
        "create/update/delete entries) as informational. Idempotent: events already annotated "
        "are counted, not annotated again. Imports do this for new events by themselves."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be annotated; write nothing"
        )

    def handle(self, *args, dry_run=False, **options):
        counts = annotate_substrate(source=SOURCE, dry_run=dry_run)
        if dry_run:
            self.stdout.write(
                f"Dry run: {counts.matched} Substrate write-backs found, {counts.already} "
                f"already annotated, {counts.to_annotate} would be annotated."
            )
            return
        # Every run is recorded, one that found nothing new too: the trail says it was checked.
        record_access(
            AccessRecord.Action.ANNOTATE,
            user=None,
            username=operating_system_user(),
            detail={
                "command": SOURCE,
                "matched": counts.matched,
                "already": counts.already,
                "annotated": counts.annotated,
            },
            row_count=counts.annotated,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts.matched} Substrate write-backs found, {counts.already} already "
                f"annotated, {counts.annotated} annotated now."
            )
        )
