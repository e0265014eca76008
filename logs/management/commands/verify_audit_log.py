from django.core.management.base import BaseCommand, CommandError

from logs.integrity import verify_chain
from logs.management.progress import ProgressBar
from logs.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the hash chain of stored audit events: every event unchanged, none deleted "
        "outside retention, none inserted around auditportal; and the seals of the lookup rows "
        "whose text events show (services, categories, activities, initiators, target names). "
        "Exits non-zero on a break."
    )

    def handle(self, *args, **options):
        total = AuditEvent.objects.count() if self.stderr.isatty() else 0
        with ProgressBar("verifying", total=total, unit="events") as bar:
            result = verify_chain(on_progress=bar.update_to)
        if not result.ok:
            raise CommandError(f"BROKEN after {result.events} events: {result.broken}")
        purged = f", {result.purged} purged by retention" if result.purged else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"OK {result.events} events{purged}, {result.lookups} lookup rows sealed; "
                f"chain head seq {result.head_seq} "
                f"link {result.head_link.hex()}"
            )
        )
