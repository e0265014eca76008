"""The portal's admin site: every model admin registered on it, Django's, django-axes' and
knox's included, answers a list filter or an object id the database cannot take with a 400.

Django's admin lets a list page be filtered by any field of its model from the URL
(``?status=...``, ``?created_at__year=...``). It checks the field, not the value: a NUL
(which PostgreSQL refuses in text), a year of 0 or of twenty digits, a date whose time zone
cannot be converted, or text compared with an address column reached the database or Python's
dates and ended in a 500. The same held for an object id with a NUL in the page of a model
whose key is text (API tokens).

``register`` gives each model admin ``RefusedLookupValues``, so a model admin added later is
covered without having to remember it. The audit-event admin checks its filters itself (its
FilterSet, logs.filters, with property tests) and says so with ``checks_its_own_filters``.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import BadRequest
from django.db import DataError, router, transaction

NUL = "\x00"


class RefusedLookupValues:
    """A list whose filters the database or Python's dates cannot take is refused with a 400,
    and an object id with a NUL is an object that does not exist."""

    checks_its_own_filters = False

    def get_changelist_instance(self, request):
        if self.checks_its_own_filters:
            return super().get_changelist_instance(request)
        for name, values in request.GET.lists():
            if any(NUL in value for value in [name, *values]):
                raise BadRequest(f"The list's filter {name!r} holds a NUL character.")
        try:
            # Building the list counts its rows: a value the database refuses fails here. In a
            # savepoint, so that a transaction around the request (the tests') survives it.
            with transaction.atomic(using=router.db_for_read(self.model)):
                return super().get_changelist_instance(request)
        except (DataError, ValueError, OverflowError) as error:
            raise BadRequest(f"The list cannot be filtered so: {error}") from error

    def get_object(self, request, object_id, from_field=None):
        if NUL in str(object_id):
            return None
        return super().get_object(request, object_id, from_field)


class PortalAdminSite(admin.AdminSite):
    """Django's admin site, each registered model admin with ``RefusedLookupValues``."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, RefusedLookupValues):
            admin_class = type(admin_class.__name__, (RefusedLookupValues, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)


class PortalAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the portal's site as ``admin.site``."""

    default_site = "logs.admin_site.PortalAdminSite"
