"""Train a compression dictionary on this database's own originals (logs.originals).

The dictionary shipped with auditportal knows the keys and values every Entra audit record
shares; one trained on a directory's own records also knows its users, groups, applications
and tenant, and packs new originals smaller. It is stored only if it packs the records it was
trained on smaller than the dictionary in use; every original already stored keeps the
dictionary it names.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from logs.models import AuditEvent
from logs.originals.codec import Dictionary, pack
from logs.originals.dictionaries import store_dictionary, writing_dictionary
from logs.originals.training import DICTIONARY_BYTES, MIN_SAMPLES, train

DEFAULT_RECORDS = 10_000


class Command(BaseCommand):
    help = (
        "Train a compression dictionary on the newest stored originals and use it for new "
        "ones, if it packs them smaller than the dictionary in use."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--records",
            type=int,
            default=DEFAULT_RECORDS,
            help=f"how many of the newest originals to train on (default {DEFAULT_RECORDS})",
        )
        parser.add_argument(
            "--size",
            type=int,
            default=DICTIONARY_BYTES,
            help=f"the dictionary's size in bytes at most (default {DICTIONARY_BYTES})",
        )

    def handle(self, *args, records, size, **options):
        if records < MIN_SAMPLES:
            raise CommandError(f"--records must be at least {MIN_SAMPLES}")
        samples = [
            text.encode()
            for text in AuditEvent.objects.order_by("-id").values_list("original", flat=True)[
                :records
            ]
        ]
        try:
            trained = train(samples, size)
        except ValueError as error:
            raise CommandError(str(error)) from None
        with transaction.atomic():
            current = writing_dictionary(connection)
            now = _packed_bytes(samples, current)
            then = _packed_bytes(samples, Dictionary(current.pk + 1, trained))
            raw = sum(map(len, samples))
            self.stdout.write(
                f"{len(samples)} originals, {raw} bytes: {now} packed with dictionary "
                f"{current.pk}, {then} with the new one."
            )
            if then >= now:
                self.stdout.write("Not stored: it packs them no smaller.")
                return
            pk = store_dictionary(
                connection,
                trained,
                origin=f"trained on the newest {len(samples)} stored originals",
            )
        self.stdout.write(f"Stored as dictionary {pk}: new originals are packed with it.")


def _packed_bytes(samples: list[bytes], dictionary: Dictionary) -> int:
    return sum(len(pack(sample.decode(), dictionary)) for sample in samples)
