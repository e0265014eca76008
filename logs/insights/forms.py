"""The compliance questions' parameters, checked the same way for every caller."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from logs.filters import UtcIsoDateTimeField
from logs.insights.answers import DEFAULT_DAYS, Period
from logs.models import Service


class ReportParametersForm(forms.Form):
    """The report's parameters as the API, the command and the Insights page take them: checked,
    never guessed (a bad date or an unknown service is an error, not a default)."""

    since = UtcIsoDateTimeField(required=False, help_text="ISO 8601; default: 30 days before until")
    until = UtcIsoDateTimeField(required=False, help_text="ISO 8601; default: now")
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(), to_field_name="name", required=False
    )
    exclude_informational = forms.ChoiceField(
        choices=[("true", "true"), ("false", "false")], required=False
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("since", "Must not be later than until.")
        if since and not until and since > timezone.now():
            self.add_error("since", "Must not be in the future when until is not given.")
        if until and not since and not _has_default_since(until):
            self.add_error(
                "until",
                f"Too early for the default period ({DEFAULT_DAYS} days before until would "
                "be before year 1): give since too.",
            )
        return cleaned

    def period(self) -> Period:
        data = self.cleaned_data
        until = data.get("until")
        since = data.get("since")
        if since and not until:
            until = timezone.now()
        return Period.default(
            since=since,
            until=until,
            service=data["service"].name if data.get("service") else None,
            exclude_informational=data.get("exclude_informational") == "true",
        )


def _has_default_since(until) -> bool:
    """Whether the default period before ``until`` starts within Python's dates."""
    try:
        until - timedelta(days=DEFAULT_DAYS)
    except OverflowError:
        return False
    return True
