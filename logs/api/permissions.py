"""Who may read the API: the same permission that lets a person view events in the portal."""

from rest_framework.permissions import BasePermission


class CanViewAuditEvents(BasePermission):
    """Signed in (session or token) and holding ``logs.view_auditevent`` (Audit Reader and up;
    superusers hold every permission)."""

    message = "You need the permission to view audit events (the Audit Reader role)."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("logs.view_auditevent"))
