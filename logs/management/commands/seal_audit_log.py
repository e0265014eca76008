from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from logs.digests import DigestError, seal_chain


class Command(BaseCommand):
    help = (
        "Write a signed digest of the chain now (imports, pushes and retention write one "
        "themselves): run once after configuring AUDITPORTAL_SIGNING_KEY, so the events "
        "stored before are covered at once."
    )

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                digest = seal_chain()
        except DigestError as error:
            raise CommandError(str(error)) from None
        if digest is None:
            self.stdout.write(
                "Nothing to seal (no signing key, or no change since the last digest)."
            )
        else:
            self.stdout.write(
                f"Digest #{digest.number}: positions {digest.first_seq}..{digest.last_seq}."
            )
