from django.core.management.base import BaseCommand, CommandError

from auditportal_verify.digests import load_public_key
from logs.digests.keys import SigningKeyError, signing_key
from logs.digests.verify import verify_digests
from logs.integrity import verify_chain
from logs.management.progress import ProgressBar
from logs.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the hash chain of stored audit events: every event unchanged, none deleted "
        "outside retention, none inserted around auditportal; the seals of the lookup rows "
        "whose text events show (services, categories, activities, initiators, target names); "
        "the targets, modified properties and details of every event against its original "
        "record; "
        "then the chain against the signed digests written outside the database, and the "
        "database's copies against them. Exits non-zero on a break or any finding."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--public-key",
            action="append",
            metavar="KEY",
            help="PEM public key to check the digests' signatures with (repeat for keys used "
            "before a rotation); default: the public half of AUDITPORTAL_SIGNING_KEY",
        )

    def handle(self, *args, public_key=None, **options):
        try:
            keys = [load_public_key(path) for path in public_key] if public_key else None
        except (OSError, ValueError) as error:
            raise CommandError(f"--public-key: {error}") from None
        if keys is None:
            # The configured key's public half, read before the walk: a key that cannot be
            # read stops the command at once, saying why.
            try:
                key = signing_key()
            except SigningKeyError as error:
                raise CommandError(str(error)) from None
            keys = [key.public_key()] if key else []
        total = AuditEvent.objects.count() if self.stderr.isatty() else 0
        with ProgressBar("verifying", total=total, unit="events") as bar:
            result = verify_chain(on_progress=bar.update_to)
        digests = verify_digests(keys)
        for finding in digests.findings:
            self.stderr.write(str(finding))
        for mismatch in result.derived:
            self.stderr.write(str(mismatch))
        if result.broken:
            raise CommandError(f"BROKEN after {result.events} events: {result.broken}")
        if result.derived:
            raise CommandError(
                f"BROKEN: {len(result.derived)} difference(s) between the rows derived from the "
                f"original records (targets, modified properties, details) and those records: "
                f"{result.derived[0]}"
            )
        if digests.refused:
            raise CommandError(f"REFUSED: {digests.refused}")
        if digests.findings:
            raise CommandError(
                f"BROKEN: {len(digests.findings)} finding(s) against the signed digests in "
                f"{digests.source}: {digests.findings[0]}"
            )
        purged = f", {result.purged} purged by retention" if result.purged else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"OK {result.events} events{purged}, {result.lookups} lookup rows sealed; "
                f"{result.targets} targets and {result.properties} modified properties as "
                f"their originals give them; chain head seq {result.head_seq} "
                f"link {result.head_link.hex()}"
            )
        )
        if digests.digests is None:
            self.stdout.write(
                "Tamper evidence is off: no signed digests (see AUDITPORTAL_SIGNING_KEY)."
            )
        else:
            self.stdout.write(f"Digests in {digests.source}: {digests.summary()}")
