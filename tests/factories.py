"""Factories for tests: stored model rows here, Graph-shaped source records in logs.demo_data.

The record factories are the ones ``seed_demo_data`` uses, re-exported so that tests build
input the same way the demo does.
"""

import json
from datetime import UTC, datetime, timedelta

import factory

from logs import models
from logs.demo_data import (  # noqa: F401 - re-exported for tests
    GraphAppInitiatorFactory,
    GraphDirectoryAuditFactory,
    GraphModifiedPropertyFactory,
    GraphTargetResourceFactory,
    GraphUserInitiatorFactory,
)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Service
        django_get_or_create = ("name",)

    name = "Core Directory"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Category
        django_get_or_create = ("name",)

    name = "UserManagement"


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Activity
        django_get_or_create = ("name",)

    name = "Update user"


class InitiatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Initiator

    identity_key = factory.Sequence(lambda n: f"{n:064x}")
    kind = models.Initiator.Kind.USER
    user_object_id = factory.Faker("uuid4")
    user_display_name = factory.Faker("name")
    user_principal_name = factory.Sequence(lambda n: f"user{n}@contoso.com")


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AuditEvent

    entra_id = factory.Sequence(lambda n: f"Directory_{n:08d}")
    activity_datetime = factory.Sequence(
        lambda n: datetime(2024, 11, 1, tzinfo=UTC) + timedelta(minutes=n)
    )
    service = factory.SubFactory(ServiceFactory)
    category = factory.SubFactory(CategoryFactory)
    activity = factory.SubFactory(ActivityFactory)
    operation_type = "Update"
    result = models.AuditEvent.Result.SUCCESS
    correlation_id = factory.Faker("uuid4")
    initiator = factory.SubFactory(InitiatorFactory)
    source_format = "graph"
    # A Graph record that says what the event's fields say, with no targets or details: the
    # import would derive none from it, so verification finds none missing. Targets made by
    # TargetFactory are not in it; verification reports them as inserted.
    original = factory.LazyAttribute(
        lambda event: json.dumps(
            {
                "id": event.entra_id,
                "activityDateTime": event.activity_datetime.isoformat(),
                "loggedByService": event.service.name,
                "category": event.category.name,
                "activityDisplayName": event.activity.name,
                "operationType": event.operation_type,
                "result": event.result,
                "correlationId": event.correlation_id,
            }
        )
    )


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Target

    event = factory.SubFactory(AuditEventFactory)
    position = factory.Sequence(lambda n: n)
    type = "User"
    object_id = factory.Faker("uuid4")
    display_name = factory.Faker("name")


class ModifiedPropertyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ModifiedProperty

    target = factory.SubFactory(TargetFactory)
    position = factory.Sequence(lambda n: n)
    name = "DisplayName"
    old_value = '["Old"]'
    new_value = '["New"]'
