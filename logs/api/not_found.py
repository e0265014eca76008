"""A URL under /api/ (or /graph/) that names nothing is answered in JSON, like every other
error there (under /graph/ in Microsoft Graph's form).

Without this, an id the router's pattern does not accept (``/api/v1/events/1.5/``) reaches
Django's HTML "Not Found" page, which an API client cannot read.
"""

from django.http import JsonResponse
from django.views import defaults

from logs.graph.errors import NOT_FOUND, error_response

API_PREFIX = "/api/"
GRAPH_PREFIX = "/graph/"


def page_not_found(request, exception):
    if request.path_info.startswith(GRAPH_PREFIX):
        return error_response(
            request,
            404,
            NOT_FOUND,
            "Resource not found: auditportal serves /graph/v1.0/auditLogs/directoryAudits "
            "and /graph/beta/auditLogs/directoryAudits.",
        )
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
