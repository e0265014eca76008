"""Small lookup tables, so filter sidebars list choices without scanning the event table."""

from django.db import models


class NamedLookup(models.Model):
    name = models.CharField(max_length=256, unique=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name


class Service(NamedLookup):
    """The Entra service that logged the event (``loggedByService``), e.g. "Core Directory"."""


class Category(NamedLookup):
    """The audit category, e.g. "UserManagement", "GroupManagement"."""

    class Meta(NamedLookup.Meta):
        verbose_name_plural = "categories"


class Activity(NamedLookup):
    """The activity display name, e.g. "Add member to group"."""

    class Meta(NamedLookup.Meta):
        verbose_name_plural = "activities"


class Initiator(models.Model):
    """Who initiated an event: a user, an application (service principal), or the system.

    Deduplicated on ``identity_key`` (a digest of every identity field), so that one actor is one
    row however many events it initiated. Per-event facts (IP address, user agent) live on the
    event, not here.
    """

    class Kind(models.TextChoices):
        USER = "user", "User"
        APP = "app", "Application"
        SYSTEM = "system", "System"

    identity_key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    user_object_id = models.CharField(max_length=64, blank=True)
    user_display_name = models.CharField(max_length=512, blank=True)
    user_principal_name = models.CharField(max_length=512, blank=True)
    user_type = models.CharField(max_length=64, blank=True)
    home_tenant_id = models.CharField(max_length=64, blank=True)
    home_tenant_name = models.CharField(max_length=512, blank=True)
    app_id = models.CharField(max_length=64, blank=True)
    app_display_name = models.CharField(max_length=512, blank=True)
    service_principal_id = models.CharField(max_length=64, blank=True)
    service_principal_name = models.CharField(max_length=512, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user_principal_name"]),
            models.Index(fields=["user_display_name"]),
            models.Index(fields=["app_display_name"]),
            models.Index(fields=["app_id"]),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        """What the portal shows in "Initiated by (actor)"."""
        if self.kind == self.Kind.USER:
            return self.user_principal_name or self.user_display_name or self.user_object_id
        if self.kind == self.Kind.APP:
            return (
                self.app_display_name
                or self.service_principal_name
                or self.app_id
                or self.service_principal_id
            )
        return "System"
