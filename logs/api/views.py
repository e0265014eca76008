"""Read-only endpoints. Views stay thin: the FilterSet selects, the paginator pages, the
serializers shape (the event list's pages, ``logs.api.event_rows``, from rows); what is here
is which rows are loaded, and in how many queries."""

from django.db.models import Prefetch
from django.http import Http404
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from logs.api.event_rows import PAGE_FIELDS, page_body
from logs.api.pagination import KeysetCursorPagination
from logs.api.parameters import (
    FormatParameterNegotiation,
    StrictFilterBackend,
    reject_unknown_parameters,
)
from logs.api.permissions import CanViewAuditEvents
from logs.api.renderers import EXPORT_RENDERERS, ExportRenderer, PageJSONRenderer
from logs.api.serializers import (
    ActivitySerializer,
    AuditEventDetailSerializer,
    AuditEventSerializer,
    CategorySerializer,
    InitiatorSerializer,
    ServiceSerializer,
)
from logs.api.throttling import RatesBeforePermissions
from logs.columns import COLUMNS_BY_KEY
from logs.event_by_id import event_by_id, event_id_in
from logs.exports import FORMATS, WEB_EXPORT_LIMIT, Export
from logs.exports.web import export_response, may_export
from logs.filters import MULTI_VALUED_FILTERS, ORDERINGS, AuditEventFilterSet
from logs.models import Activity, AuditEvent, Category, Initiator, Service, Target
from logs.routing import read_only_view
from logs.sorting import ColumnSort

PAGING_PARAMETERS = frozenset({"cursor", "page_size", "format"})


@method_decorator(read_only_view, name="dispatch")
class ReadOnlyAPIViewSet(RatesBeforePermissions, viewsets.ReadOnlyModelViewSet):
    """Shared rules: permission, formats (``json``, ``api``), keyset pages, strict parameters;
    GET requests may be answered by the read replica (logs.routing)."""

    permission_classes = [CanViewAuditEvents]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    content_negotiation_class = FormatParameterNegotiation
    pagination_class = KeysetCursorPagination
    cursor_ordering = ("name", "id")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # After authentication, so that an anonymous caller learns nothing but "sign in".
        reject_unknown_parameters(request.query_params, self.known_query_parameters())

    def known_query_parameters(self):
        return PAGING_PARAMETERS

    def get_cursor_ordering(self, request):
        return self.cursor_ordering


EXPORT_DESCRIPTION = (
    "Without `format` (or with `Accept: application/json`): one page of events as JSON, "
    "followed through `next`. With `format=csv`, `format=json` or `format=ndjson`: the whole "
    f"filtered list (at most its newest {WEB_EXPORT_LIMIT:,} events) as one streamed file: "
    "CSV in the Entra portal's download layout, or the columns named in `columns`; JSON, an "
    "array of directoryAudit records as Microsoft Graph serves them (beta's shape); NDJSON, "
    "one record per line as imported (the original itself where it is a Graph record). "
    "Exports need the `logs.export_auditevent` permission (Audit Exporter) and are "
    "recorded in the access trail. `X-Export-Truncated: true` says the list held more than "
    "the limit."
)


@extend_schema_view(
    list=extend_schema(
        summary="List audit events, newest first; or export them as CSV, JSON or NDJSON",
        description=EXPORT_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "format",
                str,
                # ``api`` (the browsable page, for a person in a browser) is accepted too, but is
                # no part of the machine-readable contract.
                enum=list(FORMATS),
                description="`csv`, `json` or `ndjson`: export the whole filtered list as a "
                "file. Absent: one page of JSON.",
            ),
            OpenApiParameter(
                "columns",
                str,
                description="With format=csv: comma-separated column keys ("
                + ", ".join(COLUMNS_BY_KEY)
                + "); without it the CSV has the Entra portal download's columns.",
            ),
        ],
        responses={
            (200, "application/json"): AuditEventSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="format=csv: the filtered events as CSV."
            ),
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR,
                description="format=ndjson: one record per line, as imported.",
            ),
        },
    ),
    retrieve=extend_schema(summary="One audit event with its modified properties and original"),
)
class AuditEventViewSet(ReadOnlyAPIViewSet):
    """Stored Entra audit events, filtered by the same FilterSet as the portal and the export."""

    queryset = AuditEvent.objects.all()
    filter_backends = [StrictFilterBackend]
    filterset_class = AuditEventFilterSet
    renderer_classes = [PageJSONRenderer, BrowsableAPIRenderer]

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.action == "list":
            renderers += [renderer() for renderer in EXPORT_RENDERERS]
        return renderers

    def finalize_response(self, request, response, *args, **kwargs):
        # A refused export (400, 403) is explained in JSON, like every other API error.
        if isinstance(getattr(request, "accepted_renderer", None), ExportRenderer):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        export_format = self.export_format(request)
        if export_format is None:
            if "columns" in request.query_params:
                raise ValidationError({"columns": ["Columns apply to format=csv only."]})
            return self.page(request)
        return self.export(request, export_format)

    def page(self, request):
        """One page of events as JSON: what ``ListModelMixin.list`` answers through
        ``AuditEventSerializer``, byte for byte, built from rows (``logs.api.event_rows``)
        rather than a model instance per event and lookup."""
        events = self.filter_queryset(self.get_queryset())
        rows = self.paginator.paginate_rows(events, request, self, PAGE_FIELDS)
        return Response(page_body(rows, request, self.paginator))

    def export_format(self, request) -> str | None:
        """csv, json or ndjson when the request asks for a file, None for a page of JSON.

        ``format=json`` asks for the file; a plain request (``Accept: application/json``)
        still gets pages, so existing API clients are unchanged.
        """
        requested = request.query_params.get("format")
        if requested in FORMATS:
            return requested
        if requested is None and request.accepted_renderer.format in ("csv", "ndjson"):
            return request.accepted_renderer.format
        return None

    def export(self, request, export_format: str):
        if not may_export(request.user):
            raise PermissionDenied(
                "You need the permission to export audit events (the Audit Exporter role)."
            )
        params = request.query_params
        paging = sorted({"cursor", "page_size"} & set(params))
        if paging:
            message = "An export holds the whole filtered list; pages do not apply."
            raise ValidationError({name: [message] for name in paging})
        columns = parse_columns(params.get("columns"), export_format)
        events = self.filter_queryset(AuditEvent.objects.all())
        export = Export(
            events,
            export_format,
            columns=columns,
            oldest_first=params.get("ordering") == "date",
            limit=WEB_EXPORT_LIMIT,
            column_sort=ColumnSort.for_ordering(params.get("ordering")),
        )
        # Exactly the filters applied: a blank value applies none.
        filters = {
            name: params.getlist(name) if name in MULTI_VALUED_FILTERS else params[name]
            for name in params
            if name in self.filter_names() and params[name].strip()
        }
        return export_response(request, export, filters=filters, via="api")

    @staticmethod
    def filter_names():
        return set(AuditEventFilterSet.base_filters)

    def get_queryset(self):
        # The portal's listing: lookups and initiator joined, the informational flag as a
        # subquery, the original left out. A page reads its columns of it as rows, and its
        # targets in one query of rows (logs.api.event_rows); ListModelMixin.list, the build a
        # page is compared with, reads it as instances (EventPageSerializer). One event adds
        # back the original and loads its targets, modified properties and annotations, one
        # query each.
        events = AuditEvent.objects.for_listing()
        if self.action == "retrieve":
            return (
                events.defer(None)
                .select_related("details_list")
                .prefetch_related(None)
                .prefetch_related(
                    Prefetch("targets", Target.objects.prefetch_related("modified_properties")),
                    "annotations",
                )
            )
        return events.prefetch_related(None)

    def get_object(self):
        """One event, as ``GenericAPIView.get_object`` finds it (the filters applied, the
        object's permissions checked), read from its month's partition where it can be
        (logs.event_by_id)."""
        pk = event_id_in(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        event = None if pk is None else event_by_id(self.filter_queryset(self.get_queryset()), pk)
        if event is None:
            raise Http404("No audit event with that id.")
        self.check_object_permissions(self.request, event)
        return event

    def get_serializer_class(self):
        if self.action == "retrieve":
            return AuditEventDetailSerializer
        return AuditEventSerializer

    def known_query_parameters(self):
        return PAGING_PARAMETERS | self.filter_names() | {"columns"}

    def get_cursor_ordering(self, request):
        # The FilterSet has validated ``ordering`` by the time the page is cut.
        return ORDERINGS[request.query_params.get("ordering") or "-date"].fields

    def get_column_sort(self, request) -> ColumnSort | None:
        """The column the list is sorted by before the date, if any (logs.sorting)."""
        key = request.query_params.get("ordering") or "-date"
        return ColumnSort.named(key) if ORDERINGS[key].column else None


def parse_columns(value: str | None, export_format: str) -> list[str] | None:
    """The ``columns`` parameter as registry keys, in the order given; refused if unknown."""
    if value is None:
        return None
    if export_format != "csv":
        raise ValidationError({"columns": ["Columns apply to format=csv only."]})
    keys = [key.strip() for key in value.split(",") if key.strip()]
    unknown = [key for key in keys if key not in COLUMNS_BY_KEY]
    if unknown or not keys:
        raise ValidationError(
            {
                "columns": [
                    f"Unknown column {', '.join(map(repr, unknown)) or '(none given)'}. "
                    f"Known: {', '.join(COLUMNS_BY_KEY)}."
                ]
            }
        )
    return list(dict.fromkeys(keys))


@extend_schema_view(list=extend_schema(summary="Services that logged events"))
class ServiceViewSet(ReadOnlyAPIViewSet):
    """The services that logged events (``loggedByService``): the ``service`` filter's values."""

    queryset = Service.objects.all()
    serializer_class = ServiceSerializer


@extend_schema_view(list=extend_schema(summary="Audit categories"))
class CategoryViewSet(ReadOnlyAPIViewSet):
    """Audit categories: the ``category`` filter's values."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer


@extend_schema_view(list=extend_schema(summary="Activity names"))
class ActivityViewSet(ReadOnlyAPIViewSet):
    """Activity display names: the ``activity`` filter's values."""

    queryset = Activity.objects.all()
    serializer_class = ActivitySerializer


@extend_schema_view(list=extend_schema(summary="Initiators: users, applications and the system"))
class InitiatorViewSet(ReadOnlyAPIViewSet):
    """Who initiated events; the ``initiator`` filter takes part of a UPN, display name or app
    name, in any case, or an object or app id."""

    queryset = Initiator.objects.all()
    serializer_class = InitiatorSerializer
    cursor_ordering = ("id",)
