"""The access trail, the portal's own audit trail: who exported, purged, annotated or queried
what, and when."""

from django.conf import settings
from django.db import models

from logs.display_time import utc_text
from logs.models.immutable import ImmutableModel


class AccessRecord(ImmutableModel):
    class Action(models.TextChoices):
        SIGN_IN = "sign_in", "Sign-in"
        SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
        QUERY = "query", "Query"
        EXPORT = "export", "Export"
        IMPORT = "import", "Import"
        INGEST = "ingest", "Ingest"
        ANNOTATE = "annotate", "Annotate"
        RETENTION = "retention", "Retention run"
        TOKEN = "token", "API token"
        ROLE = "role", "Role membership"
        PERMISSION = "permission", "Direct permission"
        ACCOUNT = "account", "Account change"
        LEGAL_HOLD = "legal_hold", "Legal hold"
        COLLECT = "collect", "Collection run"
        COLLECTION_SOURCE = "collection_source", "Collection source"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    username = models.CharField(max_length=256, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    detail = models.JSONField(default=dict, blank=True, help_text="Filters, format, file, ...")
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    remote_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["action", "-created_at"], name="access_action_date_idx")]

    def __str__(self):
        return f"{utc_text(self.created_at)} {self.username} {self.action}"
