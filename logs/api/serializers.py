"""How events and lookups read in the API: flat, named the way Entra's documentation names them.

The list shape is what a page of results needs (names, initiator, targets); the detail shape adds
what only one record needs (modified properties, annotations, the original record), so that a
list page never loads modified properties.
"""

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from logs.models import (
    Activity,
    Annotation,
    AuditEvent,
    Category,
    Initiator,
    ModifiedProperty,
    Service,
    Target,
)


class ReadOnlyFieldsMixin:
    """Every field read-only, so the schema says so: the API never writes audit evidence."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


class InitiatedBySerializer(ReadOnlyFieldsMixin, serializers.Serializer):
    """Who initiated the event; the IP address and user agent are the event's own."""

    type = serializers.CharField(source="initiator.kind", help_text="user, app or system")
    display_name = serializers.SerializerMethodField()
    user_principal_name = serializers.CharField(source="initiator.user_principal_name")
    user_object_id = serializers.CharField(source="initiator.user_object_id")
    user_type = serializers.CharField(source="initiator.user_type")
    home_tenant_id = serializers.CharField(source="initiator.home_tenant_id")
    home_tenant_name = serializers.CharField(source="initiator.home_tenant_name")
    app_id = serializers.CharField(source="initiator.app_id")
    app_display_name = serializers.CharField(source="initiator.app_display_name")
    service_principal_id = serializers.CharField(source="initiator.service_principal_id")
    service_principal_name = serializers.CharField(source="initiator.service_principal_name")
    ip_address = serializers.CharField(source="initiator_ip_address")
    user_agent = serializers.CharField(source="initiator_user_agent")

    def to_representation(self, event):
        if event.initiator_id is None:
            return None
        return super().to_representation(event)

    def get_display_name(self, event) -> str:
        return _initiator_display_name(event.initiator)


class TargetSerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Target
        fields = ["type", "object_id", "display_name", "user_principal_name", "group_type"]


class ModifiedPropertySerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = ModifiedProperty
        fields = ["name", "old_value", "new_value"]


class TargetDetailSerializer(TargetSerializer):
    modified_properties = ModifiedPropertySerializer(many=True, read_only=True)

    class Meta(TargetSerializer.Meta):
        fields = [*TargetSerializer.Meta.fields, "modified_properties"]


class AnnotationSerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Annotation
        fields = ["kind", "text", "created_at", "source"]


class EventLinksSerializer(ReadOnlyFieldsMixin, serializers.Serializer):
    self = serializers.URLField(help_text="This event's detail.")


# A primary key no event has, replaced by each event's own in a link reversed once per page.
_PK_PLACEHOLDER = 987654321987654321


def _text(value):
    """A CharField's representation: None stays None (DRF's rule for a missing value)."""
    return None if value is None else str(value)


class EventPageSerializer(serializers.ListSerializer):
    """A page of events (model instances) in the list shape, built in one pass per event.

    DRF's fields read every value through ``get_attribute`` and nest a serializer per
    initiator and per target, and reverse each event's link: most of an API page's time. The
    shape is ``AuditEventSerializer``'s, written out here, which therefore still defines the
    schema; the targets of the whole page are read in one query of plain rows.
    ``tests/api/test_event_page_serializer.py`` holds the two equal. A subclass (the detail
    shape) is serialized by DRF's rules.

    The list view serves its pages from rows instead (``logs.api.event_rows``, no instances);
    this is what ``ListModelMixin.list`` serves, the build those pages are compared with byte
    for byte (``tests/api/test_event_rows_bytes.py``).
    """

    def to_representation(self, data):
        if type(self.child) is not AuditEventSerializer:
            return super().to_representation(data)
        events = list(data.all() if hasattr(data, "all") else data)
        targets = targets_by_event([event.pk for event in events])
        fields = self.child.fields
        date = fields["activity_datetime"].to_representation
        informational = fields["informational"].to_representation
        result = fields["result"].to_representation
        link_start, link_end = event_link_parts(self.context.get("request"))
        return [
            {
                "id": event.id,
                "activity_id": _text(event.entra_id),
                "activity_datetime": date(event.activity_datetime),
                "service": _text(event.service.name),
                "category": _text(event.category.name),
                "activity": _text(event.activity.name),
                "operation_type": _text(event.operation_type),
                "result": result(event.result),
                "result_reason": _text(event.result_reason),
                "correlation_id": _text(event.correlation_id),
                "initiated_by": _initiated_by(event),
                "targets": targets[event.pk],
                "informational": informational(event.is_informational),
                "links": {"self": f"{link_start}{event.pk}{link_end}"},
            }
            for event in events
        ]


def event_link_parts(request) -> tuple[str, str]:
    """An event's detail URL before and after its id: reversed once per page, not per event."""
    url = reverse("api:event-detail", args=[_PK_PLACEHOLDER], request=request)
    start, found, end = url.partition(str(_PK_PLACEHOLDER))
    if not found:
        raise ValueError(f"the event URL {url!r} does not hold its id")
    return start, end


TARGET_FIELDS = ("type", "object_id", "display_name", "user_principal_name", "group_type")


def targets_by_event(event_ids: list[int]) -> dict[int, list[dict]]:
    """TargetSerializer's representation of every target of the events ``event_ids``, by
    event, in source order: one query of plain rows for the page, no Target instances and no
    queryset per event (what prefetch_related builds). The fields are text columns that hold
    no NULL, so each value is already its representation (a CharField's ``str(value)``)."""
    by_event: dict[int, list[dict]] = {pk: [] for pk in event_ids}
    if not by_event:
        return by_event
    rows = (
        Target.objects.filter(event_id__in=list(by_event))
        .order_by("event_id", "position")
        .values_list("event_id", *TARGET_FIELDS)
    )
    for event_id, *values in rows:
        by_event[event_id].append(dict(zip(TARGET_FIELDS, values, strict=True)))
    return by_event


def _initiated_by(event):
    """InitiatedBySerializer's representation of ``event``'s initiator."""
    if event.initiator_id is None:
        return None
    initiator = event.initiator
    return {
        "type": _text(initiator.kind),
        "display_name": _initiator_display_name(initiator),
        "user_principal_name": _text(initiator.user_principal_name),
        "user_object_id": _text(initiator.user_object_id),
        "user_type": _text(initiator.user_type),
        "home_tenant_id": _text(initiator.home_tenant_id),
        "home_tenant_name": _text(initiator.home_tenant_name),
        "app_id": _text(initiator.app_id),
        "app_display_name": _text(initiator.app_display_name),
        "service_principal_id": _text(initiator.service_principal_id),
        "service_principal_name": _text(initiator.service_principal_name),
        "ip_address": _text(event.initiator_ip_address),
        "user_agent": _text(event.initiator_user_agent),
    }


def _initiator_display_name(initiator) -> str:
    """What the list shows as who initiated the event (``display_name``)."""
    if initiator.kind == Initiator.Kind.USER:
        return initiator.user_display_name
    if initiator.kind == Initiator.Kind.APP:
        return initiator.app_display_name or initiator.service_principal_name
    return initiator.name


class AuditEventSerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    activity_id = serializers.CharField(source="entra_id", help_text="The Entra record id.")
    service = serializers.CharField(source="service.name")
    category = serializers.CharField(source="category.name")
    activity = serializers.CharField(source="activity.name")
    # Nested over the event itself (source="*"), bound once per page rather than once per row.
    initiated_by = InitiatedBySerializer(source="*", read_only=True, allow_null=True)
    targets = TargetSerializer(many=True, read_only=True)
    informational = serializers.BooleanField(
        source="is_informational",
        read_only=True,
        help_text="Annotated informational, e.g. a Substrate write-back.",
    )
    links = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        list_serializer_class = EventPageSerializer
        fields = [
            "id",
            "activity_id",
            "activity_datetime",
            "service",
            "category",
            "activity",
            "operation_type",
            "result",
            "result_reason",
            "correlation_id",
            "initiated_by",
            "targets",
            "informational",
            "links",
        ]

    @extend_schema_field(EventLinksSerializer)
    def get_links(self, event):
        url = reverse("api:event-detail", args=[event.pk], request=self.context.get("request"))
        return {"self": url}


class AuditEventDetailSerializer(AuditEventSerializer):
    targets = TargetDetailSerializer(many=True, read_only=True)
    additional_details = serializers.JSONField(
        read_only=True, help_text="The record's additionalDetails: key and value pairs."
    )
    annotations = AnnotationSerializer(many=True, read_only=True)
    original = serializers.SerializerMethodField(
        help_text="The record exactly as the source sent it, parsed from its JSON text."
    )

    class Meta(AuditEventSerializer.Meta):
        fields = [
            *AuditEventSerializer.Meta.fields,
            "additional_details",
            "annotations",
            "source_format",
            "original",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_original(self, event):
        try:
            return json.loads(event.original)
        except ValueError:
            # Every importer stores JSON; should a row hold anything else, show it as it is.
            return event.original


class ServiceSerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name"]


class CategorySerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name"]


class ActivitySerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "name"]


class InitiatorSerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    type = serializers.CharField(source="kind", help_text="user, app or system")
    name = serializers.CharField(help_text="What the portal shows as the actor.")

    class Meta:
        model = Initiator
        fields = [
            "id",
            "type",
            "name",
            "user_object_id",
            "user_display_name",
            "user_principal_name",
            "user_type",
            "home_tenant_id",
            "home_tenant_name",
            "app_id",
            "app_display_name",
            "service_principal_id",
            "service_principal_name",
        ]
