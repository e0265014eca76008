"""Per-user settings of the portal (not audit data, so ordinary mutable rows)."""

from django.conf import settings
from django.db import models


class ColumnPreference(models.Model):
    """The changelist columns and the display time zone a user chose, remembered across
    sessions."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="column_preference"
    )
    columns = models.JSONField(default=list, help_text="Column keys from logs.columns, in order.")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="An IANA time zone (Europe/Paris) whose local time pages show beside UTC, "
        "and in which date filters are typed; empty for UTC only.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user}: {', '.join(self.columns)}"


def preference_of(request) -> ColumnPreference | None:
    """The signed-in user's preference row (None if they never chose), read once per request:
    a page asks for its columns and its time zone separately."""
    if not hasattr(request, "_column_preference"):
        user = getattr(request, "user", None)
        request._column_preference = (
            ColumnPreference.objects.filter(user=user).first()
            if user is not None and user.is_authenticated
            else None
        )
    return request._column_preference
