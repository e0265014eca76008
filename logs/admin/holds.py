"""Legal holds in the admin: everyone who reads events sees them; Compliance Administrators
place and release them.

A hold is never edited or deleted: "Add" places a new one (through the same checks as the
``legal_hold`` command), and "Release" on a hold's page adds its release row with a reason.
Both are recorded in the access trail with the administrator who did it.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from logs.filters import AuditEventFilterSet
from logs.models import Activity, Category, LegalHold, Service
from logs.retention.holds import (
    HOLD_FILTERS,
    HoldError,
    clean_hold,
    covered_events,
    release_hold,
    store_hold,
)

PLACE_PERMISSION = "logs.add_legalhold"
RELEASE_PERMISSION = "logs.add_legalholdrelease"
# Filters chosen from the lookup tables: their values are names.
LOOKUP_FILTERS = {"service": Service, "category": Category, "activity": Activity}


def _filter_field(name: str) -> forms.Field:
    """A form field for one shared filter; the value is kept as text, as in a URL."""
    filter_ = AuditEventFilterSet.base_filters[name]
    label = filter_.label or name
    help_text = filter_.extra.get("help_text", "")
    if name == "activity":
        help_text = "An activity name."
    if name in LOOKUP_FILTERS:
        return forms.ChoiceField(required=False, label=label, help_text=help_text)
    choices = filter_.extra.get("choices")
    if choices:
        return forms.ChoiceField(
            required=False, label=label, help_text=help_text, choices=[("", "---"), *choices]
        )
    return forms.CharField(required=False, label=label, help_text=help_text, strip=False)


class _LegalHoldForm(forms.ModelForm):
    """Name, reason, and the filters (added below) or activity ids the hold covers."""

    event_ids = forms.CharField(
        required=False,
        label="Activity ids",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Or hold exactly these events: Entra activity ids, one a line.",
    )

    class Meta:
        model = LegalHold
        fields = ["name", "reason"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, lookup in LOOKUP_FILTERS.items():
            if name not in self.fields:  # the read-only page of a stored hold
                continue
            names = lookup.objects.order_by("name").values_list("name", flat=True)
            self.fields[name].choices = [("", "---"), *((n, n) for n in names)]

    def _post_clean(self):
        # The model's own checks run in clean_hold, with the filters; nothing else to do.
        pass

    def clean(self):
        cleaned = super().clean()
        filters = {name: cleaned.get(name) for name in HOLD_FILTERS if cleaned.get(name)}
        ids = (cleaned.get("event_ids") or "").splitlines()
        try:
            self.hold_fields = clean_hold(
                self.data.get("name", ""), self.data.get("reason", ""), filters, ids
            )
        except HoldError as error:
            for field, messages_ in error.errors.items():
                self.add_error(field if field in self.fields else None, messages_)
        return cleaned


# One declared field per shared filter, so that the admin's form factory knows them.
LegalHoldAddForm = type(
    "LegalHoldAddForm",
    (_LegalHoldForm,),
    {"__module__": __name__, **{name: _filter_field(name) for name in HOLD_FILTERS}},
)


class HoldStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("released", "Released")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(release__isnull=True)
        if self.value() == "released":
            return queryset.filter(release__isnull=False)
        return queryset


class ReleaseForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the events need not be kept any longer. From the next retention run "
        "on, they follow the policy.",
    )


class LegalHoldAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "coverage", "placed_at", "placed_by", "released"]
    list_filter = [HoldStatusFilter]
    search_fields = ["name", "reason"]
    ordering = ["-placed_at", "-id"]
    list_select_related = ["release"]
    actions = None
    form = LegalHoldAddForm
    view_fields = [
        "name",
        "status",
        "reason",
        "coverage",
        "covered_now",
        "placed_at",
        "placed_by",
        "released",
        "release_reason",
    ]
    change_form_template = "admin/logs/legalhold/change_form.html"

    # -- who may do what: seeing is the view permission; placing and releasing add rows ---
    def has_add_permission(self, request):
        return request.user.has_perm(PLACE_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False  # a hold is released, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def may_release(self, request) -> bool:
        return request.user.has_perm(RELEASE_PERMISSION)

    # -- the list and the read-only page --------------------------------------------------
    @admin.display(description="Status")
    def status(self, hold):
        return "active" if hold.is_active else "released"

    @admin.display(description="Covers")
    def coverage(self, hold):
        if hold.event_ids:
            return format_html(
                "{}<br><code>{}</code>", hold.coverage_text(), ", ".join(hold.event_ids[:20])
            )
        return hold.coverage_text()

    @admin.display(description="Stored events covered now")
    def covered_now(self, hold):
        try:
            count = covered_events(hold).count()
        except HoldError as error:
            return str(error)
        if not hold.filters:
            return count
        # The same filters in the audit log's URL select the same events.
        url = reverse("admin:logs_auditevent_changelist") + "?" + urlencode(hold.filters)
        return format_html('{} (<a href="{}">show them</a>)', count, url)

    @admin.display(description="Released")
    def released(self, hold):
        if hold.is_active:
            return "-"
        release = hold.release
        return f"{release.released_at:%Y-%m-%d %H:%M} UTC by {release.released_by}"

    @admin.display(description="Release reason")
    def release_reason(self, hold):
        return hold.release.reason if not hold.is_active else "-"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "reason", *HOLD_FILTERS, "event_ids"]
        return self.view_fields

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        hold = self.get_object(request, object_id)
        may_release = hold is not None and hold.is_active and self.may_release(request)
        extra_context = {**(extra_context or {}), "may_release": may_release}
        return super().change_view(request, object_id, form_url, extra_context)

    # -- placing: the form's checked fields become a new row ---------------------------------
    def save_form(self, request, form, change):
        return LegalHold(**form.hold_fields)

    def save_model(self, request, obj, form, change):
        store_hold(obj, user=request.user, request=request)

    def save_related(self, request, form, formsets, change):
        pass

    def render_change_form(self, request, context, add=False, change=False, **kwargs):
        context.update(show_save_and_add_another=False, show_save_and_continue=False)
        return super().render_change_form(request, context, add=add, change=change, **kwargs)

    # -- releasing -------------------------------------------------------------------------
    def get_urls(self):
        release = self.admin_site.admin_view(self.release_view)
        return [
            path("<path:object_id>/release/", release, name="logs_legalhold_release"),
            *super().get_urls(),
        ]

    def release_view(self, request, object_id):
        if not self.may_release(request):
            raise PermissionDenied
        hold = self.get_object(request, object_id)
        if hold is None:
            raise Http404("No such legal hold.")
        page = reverse("admin:logs_legalhold_change", args=[hold.pk])
        if not hold.is_active:
            self.message_user(request, f"{hold.name} was released already.", messages.WARNING)
            return HttpResponseRedirect(page)
        form = ReleaseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                release_hold(
                    hold.name,
                    reason=form.cleaned_data["reason"],
                    user=request.user,
                    request=request,
                )
            except HoldError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    f"Legal hold {hold.name} released: the next retention run treats its "
                    "events normally.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(page)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Release legal hold {hold.name}",
            "hold": hold,
            "form": form,
        }
        return TemplateResponse(request, "admin/logs/legalhold/release.html", context)
