from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class LogsConfig(AppConfig):
    name = "logs"
    verbose_name = "Audit logs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from logs import access_trail, checks, sqlite_triggers  # noqa: F401 (checks registers)
        from logs.digests.writer import seal_appended_event
        from logs.hash_chain import event_appended
        from logs.immutability import register_sqlite_functions

        access_trail.connect_receivers()
        event_appended.connect(seal_appended_event, dispatch_uid="logs.seal_appended_event")
        connection_created.connect(register_sqlite_functions, dispatch_uid="logs.sqlite_functions")
        post_migrate.connect(
            sqlite_triggers.reinstall_after_migrate, sender=self, dispatch_uid="logs.triggers"
        )
