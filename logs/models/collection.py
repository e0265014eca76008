"""Continuous collection: the sources the collector reads from, and how far it has read.

A source names where its secret is (an environment variable, a certificate file), never the
secret itself: the database may be copied, backed up and read by people who must not hold a
tenant's credentials.
"""

from django.db import models
from django.utils import timezone

from logs.display_time import utc_text


class CollectionSource(models.Model):
    class Kind(models.TextChoices):
        ENTRA = "entra", "Entra ID (Microsoft Graph)"
        GRAPH = "graph", "Graph-compatible endpoint"
        STORAGE = "storage", "Azure Storage account (diagnostic setting)"

    name = models.SlugField(max_length=64, unique=True, help_text="Used by --source NAME.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    # Entra: the app registration that reads the tenant's audit log.
    tenant_id = models.CharField(max_length=64, blank=True)
    client_id = models.CharField(max_length=64, blank=True)
    client_secret_env = models.CharField(
        max_length=128,
        blank=True,
        help_text="The environment variable holding the client secret (never the secret).",
    )
    certificate_path = models.CharField(
        max_length=1024,
        blank=True,
        help_text="A PEM or PKCS12 file holding the certificate and its private key.",
    )
    certificate_password_env = models.CharField(
        max_length=128,
        blank=True,
        help_text="The environment variable holding the certificate file's password, if any.",
    )
    # Graph-compatible endpoint: its base URL (…/graph/v1.0) and bearer token.
    url = models.URLField(
        max_length=1024, blank=True, help_text="Base URL, e.g. https://archive.example/graph/v1.0"
    )
    token_env = models.CharField(
        max_length=128, blank=True, help_text="The environment variable holding the token."
    )
    # Storage account: where a diagnostic setting archives the audit log.
    account_url = models.URLField(max_length=1024, blank=True)
    credential_env = models.CharField(
        max_length=128,
        blank=True,
        help_text="The environment variable holding the account key, a SAS token or a "
        "connection string.",
    )
    container = models.CharField(max_length=63, blank=True, default="insights-logs-auditlogs")

    # Graph sources: the newest activityDateTime stored; a run asks from it minus the overlap.
    watermark = models.DateTimeField(null=True, blank=True)
    # Health, for the admin, --check and the portal's banner.
    newest_event_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def where(self) -> str:
        """Where the source reads from, for lists and run records (no secret in it)."""
        if self.kind == self.Kind.ENTRA:
            return f"tenant {self.tenant_id}, app {self.client_id}"
        if self.kind == self.Kind.GRAPH:
            return self.url
        return f"{self.account_url.rstrip('/')}/{self.container}"

    def secret_reference(self) -> str:
        """Where the secret is kept: a variable's or a file's name, never its content."""
        if self.kind == self.Kind.ENTRA:
            if self.certificate_path:
                return f"certificate file {self.certificate_path}"
            return f"${self.client_secret_env}"
        if self.kind == self.Kind.GRAPH:
            return f"${self.token_env}"
        return f"${self.credential_env}"


class CollectedBlob(models.Model):
    """How many bytes of one append blob are stored: moved in the transaction that stores them."""

    source = models.ForeignKey(CollectionSource, on_delete=models.CASCADE, related_name="blobs")
    name = models.CharField(max_length=1024)
    offset = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "name"], name="collected_blob_unique")
        ]

    def __str__(self):
        return f"{self.name} @ {self.offset} ({utc_text(self.updated_at)})"
