"""``POST /api/v1/ingest/``: an Ingestion Service pushes Graph-shaped records.

The view reads the raw body under a size limit, hands it to ``logs.ingest.pushed`` (the same
detection, Graph parser and loader as ``import_audit_logs``) and answers with counts, or with
every bad record. Each push leaves an ImportBatch (provenance) and an AccessRecord (who pushed
what, from where), refused pushes included, written in one transaction with what it stores; a
push answered 503 because an import held the write lock could write neither, and is logged.
"""

import logging

from django.conf import settings
from django.db import IntegrityError
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from logs.api.parameters import FormatParameterNegotiation
from logs.api.permissions import CanIngestAuditEvents
from logs.api.throttling import RatesBeforePermissions
from logs.api.write_lock import (
    BUSY_MESSAGE,
    RETRY_AFTER_SECONDS,
    is_lock_timeout,
    short_lock_waits,
    write_transaction,
)
from logs.client_address import client_address
from logs.digests import DigestError
from logs.ingest.pushed import (
    MAX_REPORTED_ERRORS,
    BodyError,
    TooManyRecords,
    parse_body,
    record_refused,
    store_records,
)
from logs.models import AccessRecord

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_RECORDS = 5_000
JSON_MEDIA_TYPE = "application/json"
CONFLICT_MESSAGE = (
    "Another request stored some of these records at the same moment; nothing was stored. "
    "Send the request again: records already stored are skipped."
)


def max_bytes() -> int:
    return getattr(settings, "AUDITPORTAL_INGEST_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_records() -> int:
    return getattr(settings, "AUDITPORTAL_INGEST_MAX_RECORDS", DEFAULT_MAX_RECORDS)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


# The serializers below document the endpoint; the body itself is read by logs.ingest.


class DirectoryAuditSerializer(serializers.Serializer):
    """The main fields of Microsoft Graph's directoryAudit; every field the record carries is
    kept verbatim as its original."""

    id = serializers.CharField(help_text="The Entra record id: the key for idempotency.")
    activityDateTime = serializers.DateTimeField()
    activityDisplayName = serializers.CharField(required=False)
    category = serializers.CharField(required=False)
    loggedByService = serializers.CharField(required=False)
    operationType = serializers.CharField(required=False)
    result = serializers.CharField(
        required=False, help_text="success, failure, timeout or unknownFutureValue"
    )
    resultReason = serializers.CharField(required=False, allow_null=True)
    correlationId = serializers.CharField(required=False, allow_null=True)
    initiatedBy = serializers.DictField(required=False, allow_null=True)
    targetResources = serializers.ListField(child=serializers.DictField(), required=False)
    additionalDetails = serializers.ListField(child=serializers.DictField(), required=False)


class GraphResponseSerializer(serializers.Serializer):
    value = DirectoryAuditSerializer(
        many=True, help_text="The records; a bare JSON list of records is accepted too."
    )


class IngestResultSerializer(serializers.Serializer):
    import_batch = serializers.IntegerField(help_text="The ImportBatch recording this push.")
    received = serializers.IntegerField(help_text="Records in the request.")
    new = serializers.IntegerField(help_text="Records stored now.")
    duplicate = serializers.IntegerField(
        help_text="Records already stored (same Entra id and content), or repeated in the "
        "request: skipped."
    )
    stored_with_notes = serializers.IntegerField(
        help_text="Of the new records, those stored with normalisation notes: values that did "
        "not fit the normalised fields, stored as empty, each noted (field, what, raw value)."
    )
    conflicting = serializers.IntegerField(
        help_text="Records whose Entra id is already stored (or earlier in the request) with "
        "other content: not stored, the first version is kept."
    )
    conflicts = serializers.ListField(
        child=serializers.CharField(), help_text="The conflicts, one line each (at most 100)."
    )


class RecordErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The record's position in the list, from 0.")
    field = serializers.CharField(
        help_text="The field as the record spells it; empty when the "
        "record or the JSON as a whole is wrong."
    )
    message = serializers.CharField()


class IngestRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = RecordErrorSerializer(
        many=True, help_text=f"The bad records, at most the first {MAX_REPORTED_ERRORS}."
    )
    errors_total = serializers.IntegerField(help_text="How many records are bad in all.")
    import_batch = serializers.IntegerField(
        allow_null=True, help_text="The failed ImportBatch recording the attempt, if any."
    )


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


GRAPH_RECORD_EXAMPLE = {
    "id": "Directory_0d2f3c0e-6c7f-4b07-a3f3-1a2bc2d1b6f5_J6UXR_28791736",
    "category": "GroupManagement",
    "correlationId": "da159bfb-54fa-4092-8a38-6e1fa7870e30",
    "result": "success",
    "resultReason": "",
    "activityDisplayName": "Add member to group",
    "activityDateTime": "2026-11-02T21:20:02.7215374Z",
    "loggedByService": "Core Directory",
    "operationType": "Assign",
    "initiatedBy": {
        "user": {
            "id": "728309ae-1a37-4937-9afe-e35d964db09b",
            "displayName": "Audry Oliver",
            "userPrincipalName": "audry@contoso.com",
            "ipAddress": "203.0.113.7",
        },
        "app": None,
    },
    "targetResources": [
        {
            "id": "ef7e527d-6c92-4234-8c6d-cf6fdfb57f95",
            "displayName": "Finance",
            "type": "Group",
            "modifiedProperties": [
                {"displayName": "Group.DisplayName", "oldValue": None, "newValue": '"Finance"'}
            ],
        }
    ],
    "additionalDetails": [{"key": "User-Agent", "value": "Microsoft Azure Graph Client Library"}],
}

INGEST_SCHEMA = extend_schema(
    summary="Push Graph-shaped audit records (Ingestion Service)",
    description=(
        "The body is a Microsoft Graph `GET /auditLogs/directoryAudits` response "
        '(`{"value": [...]}`) or a JSON list of directoryAudit records, as `application/json` '
        "(UTF-8). It is read by the same parser as `import_audit_logs --format graph`. "
        "A request is all or nothing: if any record is not a record, or has no `id` or no "
        "usable `activityDateTime`, the answer is `400` with every bad record (index, field, "
        "message) and nothing is stored. Any other value that does not fit the normalised "
        "fields is stored as empty with a normalisation note on the event, and counted in "
        "`stored_with_notes`. A record whose `id` is stored with other content is a conflict "
        "(not stored, counted in `conflicting`). Records whose Entra `id` is "
        "already stored are skipped and counted as duplicates, so a request can be sent again "
        "safely: `201` when something new was stored, `200` when every record was a duplicate. "
        "Limits: the body's size (`413`, AUDITPORTAL_INGEST_MAX_BYTES, default 10 MB) and the "
        "number of records (`413`, AUDITPORTAL_INGEST_MAX_RECORDS, default 5,000); JSON nested "
        "deeper than 64 levels, a number beyond 64-bit integers or double precision, text that "
        "is not Unicode, or an activity date outside the accepted range is a `400` naming the "
        "record and field. While an import holds the database's write lock the answer is `503` "
        "with `Retry-After`: send the request again then. Needs the "
        "`logs.ingest_auditevent` permission (the Ingestion Service role)."
    ),
    request={JSON_MEDIA_TYPE: GraphResponseSerializer},
    responses={
        201: OpenApiResponse(IngestResultSerializer, description="New records were stored."),
        200: OpenApiResponse(
            IngestResultSerializer, description="Every record was already stored."
        ),
        400: OpenApiResponse(IngestRefusedSerializer, description="Bad records; none stored."),
        413: OpenApiResponse(ErrorDetailSerializer, description="Too large or too many records."),
        415: OpenApiResponse(ErrorDetailSerializer, description="Not application/json."),
        503: OpenApiResponse(
            ErrorDetailSerializer,
            description="The database is busy storing an import, or the signed digest of the "
            "records could not be written outside the database: nothing was stored; send the "
            "request again after Retry-After seconds.",
        ),
    },
    examples=[
        OpenApiExample(
            "A Graph response page",
            value={"value": [GRAPH_RECORD_EXAMPLE]},
            request_only=True,
        ),
        OpenApiExample(
            "Stored",
            value={
                "import_batch": 42,
                "received": 1,
                "new": 1,
                "stored_with_notes": 0,
                "duplicate": 0,
                "conflicting": 0,
                "conflicts": [],
            },
            response_only=True,
            status_codes=["201"],
        ),
        OpenApiExample(
            "All duplicates",
            value={
                "import_batch": 43,
                "received": 1,
                "new": 0,
                "stored_with_notes": 0,
                "duplicate": 1,
                "conflicting": 0,
                "conflicts": [],
            },
            response_only=True,
            status_codes=["200"],
        ),
        OpenApiExample(
            "A bad record",
            value={
                "detail": "1 of 2 records cannot be stored; nothing was stored.",
                "errors": [
                    {
                        "index": 1,
                        "field": "activityDateTime",
                        "message": "'yesterday' is not an ISO 8601 date-time",
                    }
                ],
                "errors_total": 1,
                "import_batch": 44,
            },
            response_only=True,
            status_codes=["400"],
        ),
    ],
)


class IngestView(RatesBeforePermissions, APIView):
    """Stores pushed records; see INGEST_SCHEMA for the contract."""

    permission_classes = [CanIngestAuditEvents]
    renderer_classes = [JSONRenderer]
    # Named for the schema and the Allow header; the body is read raw (see read_body), never
    # through request.data, so that its size is checked before anything parses it.
    parser_classes = [JSONParser]
    content_negotiation_class = FormatParameterNegotiation
    throttle_scope = "ingest"

    def dispatch(self, request, *args, **kwargs):
        with short_lock_waits():
            return super().dispatch(request, *args, **kwargs)

    def handle_exception(self, exc):
        if is_lock_timeout(exc):
            logger.warning("A push was answered 503: the write lock was held (%s)", exc)
            return self.busy(BUSY_MESSAGE)
        return super().handle_exception(exc)

    @INGEST_SCHEMA
    def post(self, request):
        if request.query_params:
            return self.refused(
                f"Unknown query parameter {', '.join(sorted(request.query_params))}: this "
                "endpoint takes none."
            )
        check_content_type(request)
        content = read_body(request, max_bytes())
        user = request.user
        # Parsed before anything is written, so the write lock is held only to store.
        try:
            parsed = parse_body(content, max_records=max_records())
        except TooManyRecords as error:
            with write_transaction():
                self.record_access(request, "too_many_records", received=None)
            raise PayloadTooLarge(str(error)) from None
        except BodyError as error:
            with write_transaction():
                self.record_access(request, "refused", received=0)
            return self.refused(str(error))
        if parsed.errors:
            with write_transaction():
                batch = record_refused(parsed, content=content, user=user)
                self.record_access(
                    request,
                    "refused",
                    received=parsed.received,
                    rejected=parsed.error_count,
                    batch=batch,
                )
            return self.refused(
                f"{parsed.error_count} of {parsed.received} records cannot be stored; "
                "nothing was stored. Correct them and send the request again.",
                errors=[error.as_dict() for error in parsed.errors],
                errors_total=parsed.error_count,
                batch=batch,
            )
        try:
            with write_transaction():
                result = store_records(parsed.records, content=content, user=user)
                self.record_access(
                    request,
                    "stored",
                    received=result.read,
                    new=result.new,
                    duplicate=result.duplicate,
                    batch=result.batch,
                )
        except IntegrityError:
            return self.busy(CONFLICT_MESSAGE)
        except DigestError as error:
            # The portal's fault, not the request's: nothing was stored, the same push later
            # will be, once the digest's outside location is writable again.
            logger.error("A push was answered 503: no signed digest could be written: %s", error)
            return self.busy(
                "Nothing was stored: the signed digest that must accompany every stored event "
                "could not be written outside the database. Send the request again later."
            )
        return Response(
            {
                "import_batch": result.batch.pk,
                "received": result.read,
                "new": result.new,
                "stored_with_notes": result.with_notes,
                "duplicate": result.duplicate,
                "conflicting": result.conflict,
                "conflicts": result.conflicts[:100],
            },
            status=status.HTTP_201_CREATED if result.new else status.HTTP_200_OK,
        )

    @staticmethod
    def busy(detail: str) -> Response:
        return Response(
            {"detail": detail},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @staticmethod
    def refused(detail: str, *, errors=(), errors_total: int = 0, batch=None) -> Response:
        return Response(
            {
                "detail": detail,
                "errors": list(errors),
                "errors_total": errors_total,
                "import_batch": batch.pk if batch else None,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )

    @staticmethod
    def record_access(request, outcome: str, *, received: int | None, batch=None, **counts) -> None:
        user = request.user
        AccessRecord.objects.create(
            user=user,
            username=user.get_username(),
            action=AccessRecord.Action.INGEST,
            detail={
                "via": "api",
                "outcome": outcome,
                "received": received,
                **counts,
                "import_batch": batch.pk if batch else None,
            },
            row_count=received,
            remote_address=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )


def check_content_type(request) -> None:
    """JSON in UTF-8 (RFC 8259), nothing else: a form or a file upload is refused with 415."""
    media_type, _, parameters = request.content_type.partition(";")
    charset = ""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media_type.strip().lower() != JSON_MEDIA_TYPE or charset not in ("", "utf-8", "utf8"):
        raise UnsupportedMediaType(
            request.content_type or "(none)",
            detail=f"Send the records as {JSON_MEDIA_TYPE} (UTF-8); got "
            f"{request.content_type or 'no Content-Type'!r}.",
        )


def read_body(request, limit: int) -> bytes:
    """The body, refused with 413 when its declared length, or what is actually sent, exceeds
    ``limit`` bytes: it is never read further than one byte past the limit."""
    message = (
        f"The request body is larger than {limit:,} bytes; send the records in several "
        "smaller requests."
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLarge(message)
    stream = request.stream
    content = stream.read(limit + 1) if stream is not None else b""
    if len(content) > limit:
        raise PayloadTooLarge(message)
    return content
