"""Admin pages over evidence: anyone with the view permission may look; nobody may write."""

from django.utils.text import capfirst


class ReadOnlyAdminMixin:
    """No add, change or delete, superusers included: these rows are records of what happened."""

    change_form_template = "admin/logs/read_only_change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Django titles a list nobody may edit "Select ... to view", as if it were a picker;
        # these lists are what they hold.
        title = capfirst(self.opts.verbose_name_plural)
        return super().changelist_view(request, {"title": title, **(extra_context or {})})
