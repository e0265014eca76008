"""``/api/v1/insights/``: the compliance answers (logs.insights) as JSON, documented in the schema.

``/api/v1/reports/``, the same answers under their former name, stays as an alias, marked
deprecated in the schema."""

from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from logs.api.parameters import FormatParameterNegotiation, reject_unknown_parameters
from logs.api.permissions import CanViewAuditEvents
from logs.api.throttling import RatesBeforePermissions
from logs.insights.builder import compliance_report
from logs.insights.forms import ReportParametersForm
from logs.routing import read_only_view

REPORT_PARAMETERS = frozenset({"since", "until", "service", "exclude_informational", "format"})


class ActivityCountSerializer(serializers.Serializer):
    activity = serializers.CharField()
    count = serializers.IntegerField()
    changelist_url = serializers.CharField(help_text="The portal's changelist of these events.")
    api_url = serializers.CharField(help_text="/api/v1/events/ filtered to these events.")


class AnswerSerializer(serializers.Serializer):
    question = serializers.CharField()
    count = serializers.IntegerField(help_text="Events (or users, renames) the answer counts.")
    changelist_url = serializers.CharField(
        allow_null=True,
        help_text="The portal's changelist filtered to exactly the counted events; null when "
        "there are none, or when no filter selects them (renames: follow each item's url).",
    )
    api_url = serializers.CharField(allow_null=True, help_text="The same filters on the API.")
    by_activity = ActivityCountSerializer(many=True)
    items = serializers.ListField(
        child=serializers.DictField(),
        help_text="What changed, newest first (at most 100): each with its event's `event_id`, "
        "`url` and `api_url`, or, for applications and service principals, one per object "
        "with its changes and a link to its events.",
    )
    items_total = serializers.IntegerField()
    items_truncated = serializers.BooleanField()
    extra = serializers.DictField(
        help_text="password_changes: `failed`; licences: `licences` (per SKU, assigned and "
        "removed)."
    )


class UserAnswersSerializer(serializers.Serializer):
    changes = AnswerSerializer()
    distinct_users = AnswerSerializer()
    password_changes = AnswerSerializer()


class GroupAnswersSerializer(serializers.Serializer):
    groups_added = AnswerSerializer()
    owner_changes = AnswerSerializer()
    licences = AnswerSerializer()


class ApplicationAnswersSerializer(serializers.Serializer):
    applications = AnswerSerializer()
    service_principals = AnswerSerializer()
    renames = AnswerSerializer()


class PeriodSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    service = serializers.CharField(allow_null=True)
    exclude_informational = serializers.BooleanField()


class TotalsSerializer(serializers.Serializer):
    events = serializers.IntegerField()
    failures = serializers.IntegerField()


class ChartsSerializer(serializers.Serializer):
    categories = serializers.ListField(child=serializers.CharField())
    events_per_day = serializers.ListField(
        child=serializers.DictField(), help_text="{day, total, by: {category: count}}"
    )
    failures_per_day = serializers.ListField(
        child=serializers.DictField(), help_text="{day, count}"
    )
    top_activities = ActivityCountSerializer(many=True)


class ComplianceReportSerializer(serializers.Serializer):
    period = PeriodSerializer()
    totals = TotalsSerializer()
    users = UserAnswersSerializer()
    groups = GroupAnswersSerializer()
    applications = ApplicationAnswersSerializer()
    charts = ChartsSerializer()


@method_decorator(read_only_view, name="dispatch")
class ComplianceReportView(RatesBeforePermissions, APIView):
    """The questions auditors ask about a period, each answer with links to its events; may be
    answered by the read replica (logs.routing)."""

    permission_classes = [CanViewAuditEvents]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    content_negotiation_class = FormatParameterNegotiation

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        reject_unknown_parameters(request.query_params, REPORT_PARAMETERS)

    @extend_schema(
        summary="Compliance answers for a period",
        description="Users changed (per activity, distinct users, passwords changed or reset), "
        "groups added, group owner changes, licences assigned, applications added/updated/"
        "removed, service principals changed and applications renamed, for a period (default: "
        "the last 30 days), with the counts per day and the top activities. Only applied "
        "changes (result success) are counted. Every count links to exactly its events.",
        parameters=[
            OpenApiParameter("since", str, description="ISO 8601; default: 30 days before until"),
            OpenApiParameter("until", str, description="ISO 8601; default: now"),
            OpenApiParameter("service", str, description="Only events logged by this service."),
            OpenApiParameter(
                "exclude_informational",
                str,
                enum=["true", "false"],
                description="true: leave out events annotated informational (Microsoft "
                "Substrate Management write-backs).",
            ),
        ],
        responses={200: ComplianceReportSerializer},
    )
    def get(self, request):
        form = ReportParametersForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        return Response(compliance_report(form.period()).as_dict())


@extend_schema_view(get=extend_schema(deprecated=True))
class FormerReportsView(ComplianceReportView):
    """``/api/v1/reports/``, the answers' former path: the same view, kept for existing clients
    and marked deprecated in the schema in favour of ``/api/v1/insights/``."""
