"""What a collection source needs besides its row: settings, and its secret.

Secrets are read at the moment a run needs them, from the environment variable or the file the
source names, and are kept nowhere else: not in the database, not in a log line, not in an
access record, not in an error message (errors name the variable or the file).
"""

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from logs.models import CollectionSource

ENTRA_GRAPH_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_CONTAINER = "insights-logs-auditlogs"
ENVIRONMENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SourceConfigError(ValueError):
    """A source cannot run as configured (a missing variable, an unreadable certificate)."""


def _setting(name: str, default):
    return getattr(settings, name, default)


def overlap() -> timedelta:
    """How far back before the watermark a Graph run asks again: Entra delivers some events
    minutes after their activity date, and ids make the repeated ones harmless."""
    return timedelta(minutes=_setting("AUDITPORTAL_COLLECTION_OVERLAP_MINUTES", 15))


def backfill() -> timedelta:
    """How far back a source's first run reads without --since: Entra P1/P2 keeps 30 days."""
    return timedelta(days=_setting("AUDITPORTAL_COLLECTION_BACKFILL_DAYS", 30))


def page_size() -> int:
    """$top of each Graph request (Graph's maximum for directoryAudits is 1000)."""
    return _setting("AUDITPORTAL_COLLECTION_PAGE_SIZE", 1000)


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: float


def graph_rate() -> Rate:
    """Requests per period, per app and tenant: Graph documents 5 requests per 10 seconds for
    the audit log, and answers 429 above it."""
    text = _setting("AUDITPORTAL_COLLECTION_GRAPH_RATE", "5/10")
    requests, _, seconds = str(text).partition("/")
    return Rate(int(requests), float(seconds or 1))


def retries() -> int:
    """How many times one request is sent again after 429/503/504 or a dropped connection."""
    return _setting("AUDITPORTAL_COLLECTION_RETRIES", 5)


def longest_wait() -> float:
    """The longest Retry-After honoured as given, in seconds; a longer one is cut to it."""
    return float(_setting("AUDITPORTAL_COLLECTION_MAX_WAIT_SECONDS", 300))


def stale_after() -> timedelta:
    """A source that has not succeeded for this long is unhealthy, and every page says so."""
    return timedelta(hours=_setting("AUDITPORTAL_COLLECTION_STALE_HOURS", 24))


def blob_chunk_bytes() -> int:
    """How much of an append blob one transaction stores at most."""
    return _setting("AUDITPORTAL_COLLECTION_BLOB_CHUNK_BYTES", 4 * 2**20)


def check_variable_name(name: str, option: str) -> str:
    if not ENVIRONMENT_NAME.match(name or ""):
        raise SourceConfigError(
            f"{option} takes the NAME of an environment variable (letters, digits, _), "
            f"not {'a secret' if name else 'nothing'}."
        )
    return name


def secret_from_environment(source: CollectionSource, variable: str, what: str) -> str:
    value = os.environ.get(variable, "").strip()
    if not value:
        raise SourceConfigError(
            f"Source {source.name}: the environment variable {variable} is not set; it must "
            f"hold the {what}."
        )
    return value


def entra_credential(source: CollectionSource):
    """The azure-identity credential of an Entra source: its certificate, else its secret."""
    from azure.identity.aio import CertificateCredential, ClientSecretCredential

    if source.certificate_path:
        path = Path(source.certificate_path)
        try:
            certificate = path.read_bytes()
        except OSError as error:
            raise SourceConfigError(
                f"Source {source.name}: cannot read the certificate file {path}: "
                f"{error.strerror or error}."
            ) from None
        password = None
        if source.certificate_password_env:
            password = secret_from_environment(
                source, source.certificate_password_env, "certificate file's password"
            )
        return CertificateCredential(
            source.tenant_id,
            source.client_id,
            certificate_data=certificate,
            password=password,
        )
    secret = secret_from_environment(source, source.client_secret_env, "app's client secret")
    return ClientSecretCredential(source.tenant_id, source.client_id, secret)


def graph_base_url(source: CollectionSource) -> str:
    if source.kind == CollectionSource.Kind.ENTRA:
        return (source.url or ENTRA_GRAPH_URL).rstrip("/")
    return source.url.rstrip("/")


def validate(source: CollectionSource) -> None:
    """Refuse a source that lacks what its kind needs (before it is stored)."""
    Kind = CollectionSource.Kind
    missing = []
    if source.kind == Kind.ENTRA:
        missing = [
            option
            for option, value in [
                ("--tenant-id", source.tenant_id),
                ("--client-id", source.client_id),
            ]
            if not value
        ]
        if bool(source.client_secret_env) == bool(source.certificate_path):
            raise SourceConfigError(
                "An entra source takes one of --client-secret-env VAR or --certificate PATH."
            )
        if source.client_secret_env:
            check_variable_name(source.client_secret_env, "--client-secret-env")
        if source.certificate_password_env:
            check_variable_name(source.certificate_password_env, "--certificate-password-env")
    elif source.kind == Kind.GRAPH:
        missing = [
            o for o, v in [("--url", source.url), ("--token-env", source.token_env)] if not v
        ]
        if source.token_env:
            check_variable_name(source.token_env, "--token-env")
    elif source.kind == Kind.STORAGE:
        missing = [
            option
            for option, value in [
                ("--account-url", source.account_url),
                ("--credential-env", source.credential_env),
            ]
            if not value
        ]
        if source.credential_env:
            check_variable_name(source.credential_env, "--credential-env")
    else:
        raise SourceConfigError(f"Unknown kind {source.kind!r}: entra, graph or storage.")
    if missing:
        raise SourceConfigError(f"A {source.kind} source needs {', '.join(missing)}.")
    for url in (source.url, source.account_url):
        if url and "?" in url:
            raise SourceConfigError(
                "The URL must not carry a query (a SAS token is a secret): name an environment "
                "variable holding it instead."
            )
