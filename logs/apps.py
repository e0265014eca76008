from django.apps import AppConfig


class LogsConfig(AppConfig):
    name = "logs"
    verbose_name = "Audit logs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from logs import trail

        trail.connect_receivers()
