"""Who may use the API: the permissions that let a person view events in the portal, and push
them in."""

from rest_framework.permissions import BasePermission


class CanViewAuditEvents(BasePermission):
    """Signed in (session or token) and holding ``logs.view_auditevent`` (Audit Reader and up;
    superusers hold every permission)."""

    message = "You need the permission to view audit events (the Audit Reader role)."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("logs.view_auditevent"))


class CanIngestAuditEvents(BasePermission):
    """Signed in and holding ``logs.ingest_auditevent``: the Ingestion Service role, whose
    tokens push records and can read nothing."""

    message = "You need the permission to ingest audit events (the Ingestion Service role)."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("logs.ingest_auditevent"))


class CanReadApiDescription(BasePermission):
    """The OpenAPI schema and its interactive docs: for anyone who may use the API, readers
    and the Ingestion Service alike (it describes the ingest endpoint's body). It holds no
    audit data, but it is not published to the world either."""

    message = "You need a role that uses the API (Audit Reader and up, or Ingestion Service)."

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (user.has_perm("logs.view_auditevent") or user.has_perm("logs.ingest_auditevent"))
        )
