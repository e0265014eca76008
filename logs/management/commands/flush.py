"""Django's ``flush``, able to empty an SQLite database whose audit tables refuse deletes.

On SQLite ``flush`` empties each table with DELETE, which the immutability triggers refuse
outside retention (logs.sqlite_triggers). Emptying every table at once is not editing the
evidence, and PostgreSQL's ``flush`` (TRUNCATE) passes its triggers too, so this command runs
Django's inside ``logs.immutability.emptying_database()``. The test harness relies on it: it
flushes the database after each transactional test.
"""

from django.core.management.commands.flush import Command as DjangoFlush

from logs.immutability import emptying_database
from logs.originals import dictionaries


class Command(DjangoFlush):
    def handle(self, **options):
        with emptying_database():
            try:
                return super().handle(**options)
            finally:
                # The compression dictionaries went with everything else: a dictionary stored
                # after this under the same id may hold other bytes (logs.originals).
                dictionaries.forget()
