"""``/api/v1/legal-holds/``: the legal holds, read-only.

Holds are placed and released by Compliance Administrators in the admin or with the
``legal_hold`` command, where both are recorded in the access trail; the API only shows them,
to everyone who may read events and holds.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.permissions import BasePermission

from logs.api.serializers import ReadOnlyFieldsMixin
from logs.api.views import ReadOnlyAPIViewSet
from logs.models import LegalHold, LegalHoldRelease


class CanViewLegalHolds(BasePermission):
    """Signed in and holding ``logs.view_legalhold`` (Audit Reader and up)."""

    message = "You need the permission to view legal holds (the Audit Reader role)."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("logs.view_legalhold"))


class LegalHoldReleaseSerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = LegalHoldRelease
        fields = ["released_at", "released_by", "reason"]


class LegalHoldSerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    active = serializers.BooleanField(
        source="is_active", read_only=True, help_text="Not released: retention keeps its events."
    )
    filters = serializers.DictField(
        child=serializers.CharField(),
        help_text="The events these filters of /api/v1/events/ select (empty when ids are listed).",
    )
    event_ids = serializers.ListField(
        child=serializers.CharField(), help_text="Or the events with these Entra activity ids."
    )
    release = LegalHoldReleaseSerializer(read_only=True, allow_null=True, default=None)

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "name",
            "active",
            "reason",
            "filters",
            "event_ids",
            "placed_at",
            "placed_by",
            "release",
        ]

    def to_representation(self, hold):
        data = super().to_representation(hold)
        if hold.is_active:
            data["release"] = None
        return data


@extend_schema_view(
    list=extend_schema(summary="Legal holds, newest first: active and released"),
    retrieve=extend_schema(summary="One legal hold"),
)
class LegalHoldViewSet(ReadOnlyAPIViewSet):
    """Legal holds: what each keeps from retention, who placed it and why, and its release."""

    permission_classes = [CanViewLegalHolds]
    queryset = LegalHold.objects.select_related("release")
    serializer_class = LegalHoldSerializer
    cursor_ordering = ("-placed_at", "-id")
