"""What the compliance questions are asked about (a ``Period``) and what they answer: an
``Answer`` per question, gathered in a ``Report``."""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from logs.insights.days import iso_utc

DEFAULT_DAYS = 30


@dataclass
class Period:
    since: datetime
    until: datetime
    service: str | None = None
    exclude_informational: bool = False

    @classmethod
    def default(cls, since=None, until=None, service=None, exclude_informational=False):
        until = until or timezone.now()
        since = since or until - timedelta(days=DEFAULT_DAYS)
        return cls(since, until, service or None, exclude_informational)

    def filters(self) -> dict:
        """The FilterSet parameters that select this period's events."""
        params = {"since": iso_utc(self.since), "until": iso_utc(self.until)}
        if self.service:
            params["service"] = self.service
        if self.exclude_informational:
            params["informational"] = "false"
        return params


@dataclass
class Answer:
    question: str
    count: int
    changelist_url: str | None = None
    api_url: str | None = None
    by_activity: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    items_total: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def items_truncated(self) -> bool:
        return self.items_total > len(self.items)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["items_truncated"] = self.items_truncated
        return data


@dataclass
class Report:
    period: Period
    users: dict[str, Answer]
    groups: dict[str, Answer]
    applications: dict[str, Answer]
    charts: dict
    totals: dict

    def sections(self) -> list[tuple[str, dict[str, Answer]]]:
        return [("Users", self.users), ("Groups", self.groups), ("Applications", self.applications)]

    def as_dict(self) -> dict:
        return {
            "period": {
                "since": iso_utc(self.period.since),
                "until": iso_utc(self.period.until),
                "service": self.period.service,
                "exclude_informational": self.period.exclude_informational,
            },
            "totals": self.totals,
            "users": {key: answer.as_dict() for key, answer in self.users.items()},
            "groups": {key: answer.as_dict() for key, answer in self.groups.items()},
            "applications": {key: answer.as_dict() for key, answer in self.applications.items()},
            "charts": self.charts,
        }
