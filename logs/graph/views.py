"""``auditLogs/directoryAudits``: the list, and one record by id.

The API's rules apply (logs/api/): the Audit Reader permission (tokens carry their user's),
rates counted before permissions, GET answered by the read replica where there is one; each
request that passes the permission check is in the access trail (``query``, via ``graph``).
Records are those JSON exports hold (logs.exports.graph_records.directory_audit; a list page is
built by logs/graph/page.py, byte for byte the same), events come from the shared FilterSet
(logs/filters.py), pages from the (date, id) index.
"""

from django.utils.decorators import method_decorator
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from logs.access_trail import record_access
from logs.api.parameters import unapplied_values
from logs.api.permissions import CanViewAuditEvents
from logs.api.throttling import RatesBeforePermissions
from logs.drf_json import drf_json_bytes
from logs.exports.graph_records import directory_audit, needs_targets
from logs.exports.selection import event_rows, event_values
from logs.filters import AuditEventFilterSet
from logs.graph.auth import BearerTokenAuthentication
from logs.graph.errors import (
    NOT_FOUND,
    GraphError,
    bad_request,
    graph_exception_handler,
    request_ids,
)
from logs.graph.page import page_records
from logs.graph.pagination import after, next_link, ordered
from logs.graph.query import options, parse_query
from logs.models import AccessRecord, AuditEvent
from logs.routing import read_only_view

COLLECTION = "auditLogs/directoryAudits"
# What an access record keeps of a request's query options: a request holds at most four that
# are answered, but a refused one may hold up to Django's limit (1,000) of any length.
TRAIL_OPTIONS = 20
TRAIL_VALUE_LENGTH = 2000


class GraphJSONRenderer(JSONRenderer):
    media_type = "application/json"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, RenderedPage):
            return data.content
        return super().render(data, accepted_media_type, renderer_context)


class RenderedPage:
    """A list page already written as JSON (logs/graph/page.py): the renderer sends it as is."""

    def __init__(self, content: bytes):
        self.content = content


class JSONOnly(BaseContentNegotiation):
    """Graph answers JSON whatever the Accept header says; so does this endpoint."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@method_decorator(read_only_view, name="dispatch")
class GraphView(RatesBeforePermissions, APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [CanViewAuditEvents]
    renderer_classes = [GraphJSONRenderer]
    content_negotiation_class = JSONOnly
    http_method_names = ["get", "head"]
    # Not in the REST API's OpenAPI schema: this endpoint's contract is Microsoft Graph's.
    schema = None

    def get_exception_handler(self):
        return graph_exception_handler

    def check_permissions(self, request):
        super().check_permissions(request)
        request.graph_permitted = True  # from here on, the request is in the access trail

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in request_ids(request).items():
            response[name] = value
        if getattr(request, "graph_permitted", False):
            self.record(request, response, kwargs.get("version", ""))
        return response

    def record(self, request, response, version: str) -> None:
        detail = {
            "via": "graph",
            "version": version.lower(),
            "path": storable(request.path),
            "query": {
                storable(name[:TRAIL_VALUE_LENGTH]): storable(value[:TRAIL_VALUE_LENGTH])
                for name, value in list(request.query_params.items())[:TRAIL_OPTIONS]
            },
            "status": response.status_code,
        }
        code = getattr(response, "graph_error_code", None)
        if code:
            detail["error"] = code
        record_access(
            AccessRecord.Action.QUERY,
            request=request,
            detail=detail,
            row_count=getattr(request, "graph_rows", 0),
        )

    @staticmethod
    def base_url(request, version: str) -> str:
        """``https://host/graph/v1.0`` as this request reached it (the version spelled as
        Graph does, whatever the request's case)."""
        path = request.path
        start = path.lower().find(f"/{version}/") + 1
        return request.build_absolute_uri(path[:start] + version)


class DirectoryAuditList(GraphView):
    def get(self, request, version: str, collection: str):
        version = version.lower()
        query = parse_query(request.query_params)
        events = filtered_events(query.clauses)
        page = after(ordered(events, query.oldest_first), query.position, query.oldest_first)
        # The page's keys first (one more than asked: is there a next page?), read from the
        # indexes alone, then the events themselves: a filter that matches many events out
        # of date order (SQLite gathers an actor's events from the actor's index and sorts
        # them) then sorts narrow keys, not whole records with their originals.
        keys = list(page.values_list("activity_datetime", "pk")[: query.top + 1])
        records = page_records(keys[: query.top], events.db, version)
        base = self.base_url(request, version)
        body = {"@odata.context": f"{base}/$metadata#{COLLECTION}", "value": records}
        if len(keys) > query.top:
            body["@odata.nextLink"] = next_link(
                f"{base}/{COLLECTION}",
                request.query_params,
                keys[query.top - 1],
                query.oldest_first,
            )
        request.graph_rows = len(records)
        return Response(RenderedPage(drf_json_bytes(body)))


class DirectoryAuditDetail(GraphView):
    def get(self, request, version: str, collection: str, audit_id: str):
        version = version.lower()
        if "\x00" in audit_id:
            raise bad_request("The id holds a null character.")
        if options(request.query_params):
            raise bad_request("A single directoryAudit takes no query options.")
        matching = AuditEvent.objects.filter(entra_id=audit_id)
        rows = event_rows(
            event_values(matching, with_original=True)[:1], matching.db, with_targets=needs_targets
        )
        if not rows:
            raise GraphError(
                status.HTTP_404_NOT_FOUND,
                NOT_FOUND,
                f"Resource '{audit_id[:300]}' does not exist or one of its queried "
                "reference-property objects are not present.",
            )
        request.graph_rows = 1
        base = self.base_url(request, version)
        return Response(
            {
                "@odata.context": f"{base}/$metadata#{COLLECTION}/$entity",
                **directory_audit(rows[0], version),
            }
        )


def storable(text: str) -> str:
    """``text`` with its null characters written out: a refused request is recorded with
    what it asked for, and PostgreSQL stores no null character in text or JSON."""
    return text.replace("\x00", "\\x00")


def filtered_events(clauses: list[dict[str, str]]):
    """The events every clause selects: each clause through the shared FilterSet, one after the
    other (so that a property may appear twice, as in a date range)."""
    events = AuditEvent.objects.all()
    for params in clauses:
        filterset = AuditEventFilterSet(data=params, queryset=events)
        errors = dict(filterset.errors) if not filterset.is_valid() else {}
        if not errors:
            errors = unapplied_values(filterset, params)
        if errors:
            messages = [str(message) for problems in errors.values() for message in problems]
            raise bad_request(f"Invalid value in $filter: {' '.join(messages)}")
        events = filterset.qs
    return events
