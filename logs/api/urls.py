"""``/api/v1/`` routes; the schema and docs are mounted beside it in auditportal/urls.py."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from logs.api import holds, ingest, insights, views

app_name = "api"

router = DefaultRouter()
router.register("events", views.AuditEventViewSet, basename="event")
router.register("services", views.ServiceViewSet, basename="service")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("activities", views.ActivityViewSet, basename="activity")
router.register("initiators", views.InitiatorViewSet, basename="initiator")
router.register("legal-holds", holds.LegalHoldViewSet, basename="legal-hold")

urlpatterns = [
    path("insights/", insights.ComplianceReportView.as_view(), name="insights"),
    # The former path of the same answers, for existing clients (deprecated in the schema).
    path("reports/", insights.FormerReportsView.as_view(), name="reports"),
    path("ingest/", ingest.IngestView.as_view(), name="ingest"),
    *router.urls,
]
