"""Query parameters are checked, never guessed: a typo, a bad value or an unknown format is a 400
naming the parameter, because a filter silently ignored returns the wrong evidence with a 200.
"""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation

from logs.filters import MULTI_VALUED_FILTERS


def reject_unknown_parameters(query_params, known) -> None:
    """Refuse parameter names the endpoint does not know, a parameter given twice (only one value
    would be used; filters that take several values, such as ``activity``, excepted), and NUL
    characters (the database cannot compare them)."""
    errors = {}
    for name in query_params:
        values = query_params.getlist(name)
        if name not in known:
            errors[name] = [f"Unknown parameter. Known: {', '.join(sorted(known))}."]
        elif len(values) > 1 and name not in MULTI_VALUED_FILTERS:
            errors[name] = ["Give this parameter once."]
        elif any("\x00" in value for value in values):
            errors[name] = ["Null characters are not allowed."]
    if errors:
        raise ValidationError(errors)


class StrictFilterBackend(DjangoFilterBackend):
    """The view's FilterSet, with every given value either applied or refused.

    Django's forms read a value they cannot parse in some widgets (a boolean such as
    ``informational=yes``) as "not given", which would return unfiltered rows; here that is an
    error.
    """

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        errors = unapplied_values(filterset, request.query_params)
        if errors:
            raise ValidationError(errors)
        return filterset.qs


def unapplied_values(filterset, query_params) -> dict:
    """Parameters given a non-blank value that the FilterSet's form read as empty."""
    errors = {}
    for name, filter_ in filterset.filters.items():
        raw = query_params.get(name)
        if raw is None or not raw.strip():
            continue
        if filterset.form.cleaned_data.get(name) in (None, ""):
            if isinstance(filter_, django_filters.BooleanFilter):
                errors[name] = [f"Must be true or false; got {raw!r}."]
            else:
                errors[name] = [f"Not a valid value: {raw!r}."]
    return errors


class FormatParameterNegotiation(DefaultContentNegotiation):
    """``format=`` naming no renderer is a 400 with the choices, not DRF's bare 404."""

    def filter_renderers(self, renderers, format):
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            known = ", ".join(renderer.format for renderer in renderers)
            raise ValidationError({"format": [f"Unknown format {format!r}. Known: {known}."]})
        return matching
