"""The name a sign-in attempt is counted under by the lockout (django-axes'
``AXES_USERNAME_CALLABLE``): the name tried, cut to what the lockout's table keeps.

django-axes stores the name in a 255-character column and looks attempts up by it.
PostgreSQL refuses a longer value, so without the cut anyone could turn a failed sign-in into
a server error by typing a long name (SQLite keeps it whole). The cut also means that names
differing only past what is kept are counted as one: a guesser cannot dodge the count by
varying characters the database would not keep anyway.

The access trail records the name tried on its own terms (logs.access_trail).
"""

from axes.conf import settings
from axes.models import AccessAttempt

KEPT_LENGTH = AccessAttempt._meta.get_field("username").max_length


def lockout_name(request, credentials: dict | None = None) -> str | None:
    """The name tried, from the credentials given to ``authenticate`` or else the posted
    form, as django-axes reads it by default; cut to ``KEPT_LENGTH`` characters."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        name = credentials.get(field)
    else:
        name = getattr(request, "data", request.POST).get(field)
    return name[:KEPT_LENGTH] if isinstance(name, str) else name
