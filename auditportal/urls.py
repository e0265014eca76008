"""URL routes: the admin portal, the REST API (/api/v1/) with its OpenAPI schema and docs, and
the Microsoft Graph-compatible endpoint (/graph/)."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from logs.api.permissions import CanReadApiDescription

# The API's description is for the API's users (see CanReadApiDescription).
api_description = {"permission_classes": [CanReadApiDescription]}

urlpatterns = [
    # The portal is the admin: the bare address leads to it.
    path("", RedirectView.as_view(pattern_name="admin:index")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("logs.api.urls")),
    path("graph/", include("logs.graph.urls")),
    path("api/schema/", SpectacularAPIView.as_view(**api_description), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", **api_description),
        name="api-docs",
    ),
]

# An unknown URL under /api/ gets the API's JSON 404, under /graph/ Graph's; elsewhere Django's
# page.
handler404 = "logs.api.not_found.page_not_found"
