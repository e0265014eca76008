"""API tokens in the admin: created with an expiry, shown once, revoked by deleting them.

knox stores only a token's digest, so the token itself is shown on the page that answers its
creation and never again. Who may do what:

- a user holding knox's model permissions (``knox.view_authtoken``, ``knox.add_authtoken``,
  ``knox.delete_authtoken``; superusers hold them, no role does) sees, creates and revokes
  everyone's tokens, e.g. the Ingestion Service account's;
- any other active user who may read audit events (``logs.view_auditevent``: Audit Reader and
  up) sees, creates and revokes his own tokens only. A token carries its user's permissions,
  so it gives nobody more than he already has.

Tokens are credentials, not audit records: revoking deletes the row. Creation, revocation and
knox removing an expired token are recorded in the access trail (``logs.access_trail``).
"""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils import timezone
from knox.models import get_digest_token, get_token_model
from knox.settings import CONSTANTS

from logs.admin.times import shown_time

AuthToken = get_token_model()

VALIDITY_CHOICES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "365 days")]
DEFAULT_VALIDITY_DAYS = 30
SELF_SERVICE_PERMISSION = "logs.view_auditevent"


class ApiTokenAddForm(forms.ModelForm):
    valid_for = forms.TypedChoiceField(
        choices=VALIDITY_CHOICES,
        coerce=int,
        initial=DEFAULT_VALIDITY_DAYS,
        help_text="The token stops working after this; create a new one then.",
    )

    class Meta:
        model = AuthToken
        fields = ["user", "valid_for"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            self.fields["user"].queryset = (
                get_user_model()
                .objects.filter(is_active=True)
                .order_by(get_user_model().USERNAME_FIELD)
            )


class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "prefix", "created_shown", "expiry_shown", "status"]
    list_filter = [("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = [f"user__{get_user_model().USERNAME_FIELD}", "token_key"]
    ordering = ["-created"]
    list_select_related = ["user"]
    readonly_fields = ["user", "prefix", "created_shown", "expiry_shown", "status"]
    form = ApiTokenAddForm

    # -- who may do what ------------------------------------------------------------------
    @staticmethod
    def manages_all(request, action: str) -> bool:
        return request.user.has_perm(f"knox.{action}_authtoken")

    @staticmethod
    def self_service(request) -> bool:
        return request.user.is_active and request.user.has_perm(SELF_SERVICE_PERMISSION)

    def _own_or_managed(self, request, action: str, obj) -> bool:
        if self.manages_all(request, action):
            return True
        return self.self_service(request) and (obj is None or obj.user_id == request.user.pk)

    def has_module_permission(self, request):
        return self.manages_all(request, "view") or self.self_service(request)

    def has_view_permission(self, request, obj=None):
        return self._own_or_managed(request, "view", obj)

    def has_add_permission(self, request):
        return self.manages_all(request, "add") or self.self_service(request)

    def has_change_permission(self, request, obj=None):
        return False  # a token is replaced, never edited

    def has_delete_permission(self, request, obj=None):
        return self._own_or_managed(request, "delete", obj)

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        if self.manages_all(request, "view"):
            return tokens
        return tokens.filter(user=request.user)

    # -- the list and the read-only page --------------------------------------------------
    created_shown = shown_time("created", "Created")
    expiry_shown = shown_time("expiry", "Expiry")

    @admin.display(description="Prefix", ordering="token_key")
    def prefix(self, token):
        return token.token_key

    @admin.display(description="Status")
    def status(self, token):
        if token.expiry is not None and token.expiry <= timezone.now():
            return "expired"
        return "active"

    def get_fields(self, request, obj=None):
        if obj is not None:
            return self.readonly_fields
        return ["user", "valid_for"] if self.manages_all(request, "add") else ["valid_for"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    # -- creating: the token is shown on the answer to this request, once ------------------
    def render_change_form(self, request, context, add=False, change=False, **kwargs):
        context.update(show_save_and_add_another=False, show_save_and_continue=False)
        return super().render_change_form(request, context, add=add, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return
        if not self.manages_all(request, "add"):
            obj.user = request.user
        digest, token = get_digest_token()
        obj.digest = digest
        obj.token_key = token[: CONSTANTS.TOKEN_KEY_LENGTH]
        obj.expiry = timezone.now() + timedelta(days=form.cleaned_data["valid_for"])
        obj.save()
        obj.plain_token = token

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API token created",
            "token": obj,
            "plain_token": obj.plain_token,
        }
        response = TemplateResponse(request, "admin/knox/authtoken/created.html", context)
        return response
