"""``/graph/`` routes: ``{v1.0|beta}/auditLogs/directoryAudits[/{id}]``.

Paths compare without regard to case, as Graph's do (its own responses name the collection
``auditlogs/directoryaudits`` as often as ``auditLogs/directoryAudits``); a trailing slash is
accepted. An id is any text but a slash. The case-insensitive parts are named groups: Django
cannot reverse a pattern with an inline flag elsewhere, and one such pattern would break
``reverse()`` for every URL of the site.
"""

from django.urls import re_path

from logs.graph import views

app_name = "graph"

COLLECTION = r"(?P<version>(?i:v1\.0|beta))/(?P<collection>(?i:auditlogs/directoryaudits))"

urlpatterns = [
    re_path(rf"^{COLLECTION}/?$", views.DirectoryAuditList.as_view(), name="list"),
    re_path(
        rf"^{COLLECTION}/(?P<audit_id>[^/]+)/?$",
        views.DirectoryAuditDetail.as_view(),
        name="detail",
    ),
]
