"""Read-only endpoints. Views stay thin: the FilterSet selects, the paginator pages, the
serializers shape; what is here is which rows are loaded, and in how many queries."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer

from logs.api.pagination import KeysetCursorPagination
from logs.api.parameters import (
    FormatParameterNegotiation,
    StrictFilterBackend,
    reject_unknown_parameters,
)
from logs.api.permissions import CanViewAuditEvents
from logs.api.serializers import (
    ActivitySerializer,
    AuditEventDetailSerializer,
    AuditEventSerializer,
    CategorySerializer,
    InitiatorSerializer,
    ServiceSerializer,
)
from logs.filters import ORDERINGS, AuditEventFilterSet
from logs.models import Activity, AuditEvent, Category, Initiator, Service, Target

PAGING_PARAMETERS = frozenset({"cursor", "page_size", "format"})


class ReadOnlyAPIViewSet(viewsets.ReadOnlyModelViewSet):
    """Shared rules: permission, formats (``json``, ``api``), keyset pages, strict parameters."""

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


@extend_schema_view(
    list=extend_schema(summary="List audit events, newest first"),
    retrieve=extend_schema(summary="One audit event with its modified properties and original"),
)
class AuditEventViewSet(ReadOnlyAPIViewSet):
    """Stored Entra audit events, filtered by the same FilterSet as the portal and the export."""

    queryset = AuditEvent.objects.all()
    filter_backends = [StrictFilterBackend]
    filterset_class = AuditEventFilterSet

    def get_queryset(self):
        # The portal's listing: lookups and initiator joined, targets in one prefetch, the
        # informational flag as a subquery, the original left out. One event adds back the
        # original and loads its modified properties and annotations, one query each.
        events = AuditEvent.objects.for_listing()
        if self.action == "retrieve":
            return (
                events.defer(None)
                .prefetch_related(None)
                .prefetch_related(
                    Prefetch("targets", Target.objects.prefetch_related("modified_properties")),
                    "annotations",
                )
            )
        return events

    def get_serializer_class(self):
        if self.action == "retrieve":
            return AuditEventDetailSerializer
        return AuditEventSerializer

    def known_query_parameters(self):
        return PAGING_PARAMETERS | set(AuditEventFilterSet.base_filters)

    def get_cursor_ordering(self, request):
        # The FilterSet has validated ``ordering`` by the time the page is cut.
        return ORDERINGS[request.query_params.get("ordering") or "-date"][1]


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
    """Who initiated events; the ``initiator`` filter takes a UPN, display name or app name."""

    queryset = Initiator.objects.all()
    serializer_class = InitiatorSerializer
    cursor_ordering = ("id",)
