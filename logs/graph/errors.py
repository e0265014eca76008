"""Errors in Microsoft Graph's form.

Graph answers every error with ``{"error": {"code", "message", "innerError": {"date",
"request-id", "client-request-id"}}}``; its clients (the msgraph-sdk raises ``ODataError``)
read the code from there. The codes are the ones Graph uses for directory data:
``Request_UnsupportedQuery`` for a query form it does not support, ``BadRequest`` for one it
cannot read, ``InvalidAuthenticationToken`` (401), ``Authorization_RequestDenied`` (403),
``Request_ResourceNotFound`` (404) and ``TooManyRequests`` (429, with ``Retry-After``).
"""

import math
import uuid
from datetime import UTC, datetime

from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

BAD_REQUEST = "BadRequest"
UNSUPPORTED_QUERY = "Request_UnsupportedQuery"
UNAUTHENTICATED = "InvalidAuthenticationToken"
FORBIDDEN = "Authorization_RequestDenied"
NOT_FOUND = "Request_ResourceNotFound"
METHOD_NOT_ALLOWED = "Request_BadRequest"
THROTTLED = "TooManyRequests"
GENERAL = "generalException"

REQUEST_ID_HEADER = "request-id"
CLIENT_REQUEST_ID_HEADER = "client-request-id"
# The longest client-request-id echoed back: a GUID, with room to spare.
CLIENT_REQUEST_ID_LENGTH = 100


class GraphError(Exception):
    """A refusal, answered with ``status`` and Graph's error ``code``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str) -> GraphError:
    return GraphError(status.HTTP_400_BAD_REQUEST, BAD_REQUEST, message)


def unsupported(message: str) -> GraphError:
    return GraphError(status.HTTP_400_BAD_REQUEST, UNSUPPORTED_QUERY, message)


def request_ids(request) -> dict[str, str]:
    """The ids Graph puts in every answer: one of its own per request, and the client's
    ``client-request-id`` echoed back (the SDK sends one)."""
    ids = getattr(request, "graph_request_ids", None)
    if ids is None:
        ids = {REQUEST_ID_HEADER: str(uuid.uuid4())}
        client_id = request.META.get("HTTP_CLIENT_REQUEST_ID", "")
        if client_id and len(client_id) <= CLIENT_REQUEST_ID_LENGTH and client_id.isprintable():
            ids[CLIENT_REQUEST_ID_HEADER] = client_id
        request.graph_request_ids = ids
    return ids


def error_body(request, code: str, message: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S}",
                **request_ids(request),
            },
        }
    }


def error_response(request, status_code: int, code: str, message: str) -> JsonResponse:
    """A plain Django response, for errors met outside a Graph view (an unknown URL)."""
    response = JsonResponse(error_body(request, code, message), status=status_code)
    for name, value in request_ids(request).items():
        response[name] = value
    return response


def graph_exception_handler(exc, context):
    """DRF's exception handler for the Graph views: every refusal in Graph's form."""
    request = context["request"]
    headers = {}
    if isinstance(exc, GraphError):
        status_code, code, message = exc.status, exc.code, exc.message
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # APIView sets 401 and the scheme when the view names one (it does), 403 otherwise.
        status_code = exc.status_code
        if status_code == status.HTTP_401_UNAUTHORIZED:
            code = UNAUTHENTICATED
            message = (
                "Access token is empty."
                if isinstance(exc, exceptions.NotAuthenticated)
                else "Access token validation failure: the token is unknown, expired or malformed."
            )
        else:
            code, message = FORBIDDEN, str(exc.detail)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
    elif isinstance(exc, exceptions.PermissionDenied):
        status_code, code = status.HTTP_403_FORBIDDEN, FORBIDDEN
        message = (
            "Insufficient privileges to complete the operation: reading audit events needs "
            "the Audit Reader role."
        )
    elif isinstance(exc, exceptions.Throttled):
        status_code, code = status.HTTP_429_TOO_MANY_REQUESTS, THROTTLED
        wait = math.ceil(exc.wait) if exc.wait is not None else 1
        headers["Retry-After"] = str(max(wait, 1))
        message = f"Too many requests. Please retry after {headers['Retry-After']} seconds."
    elif isinstance(exc, Http404 | exceptions.NotFound):
        status_code, code, message = status.HTTP_404_NOT_FOUND, NOT_FOUND, "Resource not found."
    elif isinstance(exc, exceptions.MethodNotAllowed):
        status_code, code = status.HTTP_405_METHOD_NOT_ALLOWED, METHOD_NOT_ALLOWED
        message = f"The method {request.method} is not allowed: the audit log is read-only."
    elif isinstance(exc, exceptions.APIException):
        status_code, code, message = exc.status_code, GENERAL, str(exc.detail)
    else:
        return None  # an unexpected error: Django's 500, and the traceback in the logs
    response = Response(error_body(request, code, message), status=status_code, headers=headers)
    response.graph_error_code = code
    return response
