"""Collection sources in the admin: configured by a Compliance Administrator, and each one's
health where an auditor sees it (last success, lag, last error)."""

from django import forms
from django.contrib import admin
from django.db import transaction

from logs.access_trail import record_access
from logs.admin.times import shown_time
from logs.collection.health import describe, health, lag
from logs.collection.sources import SourceConfigError, validate
from logs.models import AccessRecord, CollectionSource

SETTINGS = [
    "name",
    "kind",
    "enabled",
    "tenant_id",
    "client_id",
    "client_secret_env",
    "certificate_path",
    "certificate_password_env",
    "url",
    "token_env",
    "account_url",
    "credential_env",
    "container",
]


class CollectionSourceForm(forms.ModelForm):
    # A URL typed without its scheme is an https one (plain http only to this machine).
    url = forms.URLField(
        required=False,
        max_length=1024,
        assume_scheme="https",
        help_text=CollectionSource._meta.get_field("url").help_text,
    )
    account_url = forms.URLField(required=False, max_length=1024, assume_scheme="https")

    class Meta:
        model = CollectionSource
        fields = SETTINGS

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = CollectionSource(**{name: cleaned.get(name) or "" for name in SETTINGS})
        candidate.enabled = bool(cleaned.get("enabled"))
        try:
            validate(candidate)
        except SourceConfigError as error:
            raise forms.ValidationError(str(error).replace("--", "").replace("-", " ")) from None
        return cleaned


class CollectionSourceAdmin(admin.ModelAdmin):
    form = CollectionSourceForm
    list_display = [
        "name",
        "kind",
        "enabled",
        "healthy",
        "last_success_shown",
        "lag_shown",
        "last_error_line",
    ]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "tenant_id", "url", "account_url"]
    actions = None
    readonly_fields = [
        "secret_from",
        "watermark_shown",
        "newest_event_shown",
        "last_run_shown",
        "last_success_shown",
        "last_error_shown",
        "last_error",
    ]
    fieldsets = [
        (None, {"fields": ["name", "kind", "enabled"]}),
        (
            "Entra ID (Microsoft Graph)",
            {
                "fields": [
                    "tenant_id",
                    "client_id",
                    "client_secret_env",
                    "certificate_path",
                    "certificate_password_env",
                ]
            },
        ),
        (
            "Graph-compatible endpoint (or a national cloud's Graph)",
            {"fields": ["url", "token_env"]},
        ),
        ("Storage account", {"fields": ["account_url", "credential_env", "container"]}),
        (
            "Health",
            {
                "fields": [
                    "secret_from",
                    "watermark_shown",
                    "newest_event_shown",
                    "last_run_shown",
                    "last_success_shown",
                    "last_error_shown",
                    "last_error",
                ]
            },
        ),
    ]

    watermark_shown = shown_time("watermark", "Watermark")
    newest_event_shown = shown_time("newest_event_at", "Newest event collected")
    last_run_shown = shown_time("last_run_at", "Last run")
    last_success_shown = shown_time("last_success_at", "Last success")
    last_error_shown = shown_time("last_error_at", "Last error at")

    @admin.display(description="Secret from")
    def secret_from(self, source):
        return source.secret_reference() if source.pk else ""

    @admin.display(description="Healthy", boolean=True)
    def healthy(self, source):
        return health(source).healthy

    @admin.display(description="Lag (newest event's age)")
    def lag_shown(self, source):
        age = lag(source)
        return describe(age) if age is not None else "-"

    @admin.display(description="Last error")
    def last_error_line(self, source):
        state = health(source)
        if state.healthy:
            return ""
        return state.problem[:200]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record_access(
                AccessRecord.Action.COLLECTION_SOURCE,
                request=request,
                detail={
                    "change": "change" if change else "add",
                    "source": obj.name,
                    "kind": obj.kind,
                    "from": obj.where(),
                    "secret": obj.secret_reference(),
                    "fields": sorted(form.changed_data),
                },
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            name = obj.name
            super().delete_model(request, obj)
            record_access(
                AccessRecord.Action.COLLECTION_SOURCE,
                request=request,
                detail={"change": "remove", "source": name},
            )
