"""How long audit events are kept: a default number of days, and per-category overrides.

Both come from settings (environment variables, see docs/operators/configuration.md):
``AUDITPORTAL_RETENTION_DAYS`` and ``AUDITPORTAL_RETENTION_OVERRIDES``
("UserManagement=730,Policy=1095"). Overrides may be
longer or shorter than the default; a category without one follows the default.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone

from logs.models import Category

DEFAULT_RETENTION_DAYS = 365
# A hundred years. Longer is not a retention period: counted back from now, it would reach
# before year 1, where Python's dates end. To keep events for ever, run no retention.
MAX_RETENTION_DAYS = 36_525


def parse_overrides(text: str) -> dict[str, int]:
    """``"Category=days,..."`` → {category: days}; the error names what to fix."""
    overrides = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, separator, days = item.rpartition("=")
        if not separator or not name.strip() or not days.strip().isdecimal():
            raise ImproperlyConfigured(
                f"AUDITPORTAL_RETENTION_OVERRIDES: {item!r} is not CATEGORY=DAYS "
                '(e.g. "UserManagement=730,GroupManagement=1095").'
            )
        overrides[name.strip()] = _valid_days(int(days), f"the override for {name.strip()}")
    return overrides


def _valid_days(days: int, what: str) -> int:
    if days < 1:
        raise ImproperlyConfigured(f"Retention: {what} must be at least 1 day, not {days}.")
    if days > MAX_RETENTION_DAYS:
        raise ImproperlyConfigured(
            f"Retention: {what} must be at most {MAX_RETENTION_DAYS:,} days (a hundred years), "
            f"not {days:,}; to keep events for ever, run no retention."
        )
    return days


@dataclass(frozen=True)
class RetentionPolicy:
    default_days: int = DEFAULT_RETENTION_DAYS
    overrides: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, days: int | None = None) -> "RetentionPolicy":
        """The configured policy; ``days`` (``apply_retention --days``) replaces the default,
        the per-category overrides still apply."""
        overrides = parse_overrides(getattr(settings, "AUDITPORTAL_RETENTION_OVERRIDES", ""))
        if days is None:
            configured = str(getattr(settings, "AUDITPORTAL_RETENTION_DAYS", "")).strip()
            if not configured.isdecimal():
                raise ImproperlyConfigured(
                    f"AUDITPORTAL_RETENTION_DAYS={configured!r} is not a whole number of days."
                )
            days = int(configured)
        return cls(_valid_days(days, "the number of days"), overrides)

    def cutoffs(self, now: datetime) -> tuple[datetime, dict[str, datetime]]:
        """Events dated before these moments are expired: the default's, and each override's."""
        default = now - timedelta(days=self.default_days)
        return default, {name: now - timedelta(days=d) for name, d in self.overrides.items()}

    def expired(self, now: datetime | None = None) -> Q:
        """The condition on AuditEvent for "expired at ``now``"."""
        now = now or timezone.now()
        default, by_category = self.cutoffs(now)
        category_ids = dict(Category.objects.filter(name__in=by_category).values_list("name", "id"))
        condition = Q(activity_datetime__lt=default) & ~Q(category_id__in=category_ids.values())
        for name, category_id in category_ids.items():
            condition |= Q(category_id=category_id, activity_datetime__lt=by_category[name])
        # One bound on the date alone, so the date index limits the scan.
        latest = max([default, *(by_category[name] for name in category_ids)])
        return Q(activity_datetime__lt=latest) & condition

    def describe(self, now: datetime) -> dict:
        default, by_category = self.cutoffs(now)
        return {
            "default_days": self.default_days,
            "overrides": dict(self.overrides),
            "cutoff": default.isoformat(),
            "category_cutoffs": {name: moment.isoformat() for name, moment in by_category.items()},
        }
