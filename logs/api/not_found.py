"""A URL under /api/ that names nothing is answered in JSON, like every other API error.

Without this, an id the router's pattern does not accept (``/api/v1/events/1.5/``) reaches
Django's HTML "Not Found" page, which an API client cannot read.
"""

from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def page_not_found(request, exception):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
