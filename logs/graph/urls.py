"""``/graph/`` routes: ``{v1.0|beta}/auditLogs/directoryAudits[/{id}]``.

Paths compare without regard to case, as Graph's do (its own responses name the collection
``auditlogs/directoryaudits`` as often as ``auditLogs/directoryAudits``); a trailing slash is
accepted. An id is any text but a slash.
"""

from django.urls import re_path

from logs.graph import views

app_name = "graph"

COLLECTION = r"(?P<version>v1\.0|beta)/auditlogs/directoryaudits"

urlpatterns = [
    re_path(rf"^(?i:{COLLECTION})/?$", views.DirectoryAuditList.as_view(), name="list"),
    re_path(
        rf"^(?i:{COLLECTION})/(?P<audit_id>[^/]+)/?$",
        views.DirectoryAuditDetail.as_view(),
        name="detail",
    ),
]
