"""Admin pages over evidence: anyone with the view permission may look; nobody may write."""


class ReadOnlyAdminMixin:
    """No add, change or delete, superusers included: these rows are records of what happened."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
