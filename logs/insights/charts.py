"""The figures the charts draw, read from the counts the builder already holds."""

from collections import defaultdict

from logs.insights.days import utc_days
from logs.insights.questions import FAILURE
from logs.models import Category

TOP_ACTIVITIES = 10
CHART_CATEGORIES = 6


class ChartFigures:
    """``ReportBuilder``'s charts: events per day by category, failures per day and the top
    activities, from its counts (no query but the category names)."""

    def charts(self) -> dict:
        per_day = defaultdict(lambda: [0, 0])
        for (day, category_id, result), count in self.day_counts.items():
            per_day[(day, category_id)][0] += count
            if result == FAILURE:
                per_day[(day, category_id)][1] += count
        categories = dict(Category.objects.values_list("pk", "name"))
        days = utc_days(self.period.since, self.period.until)
        totals_by_category = defaultdict(int)
        cells = defaultdict(int)
        failures = defaultdict(int)
        for (day, category_id), (count, failed) in per_day.items():
            name = categories.get(category_id, "")
            totals_by_category[name] += count
            cells[(day, name)] += count
            failures[day] += failed
        ranked = sorted(totals_by_category, key=lambda name: -totals_by_category[name])
        shown, rest = ranked[:CHART_CATEGORIES], set(ranked[CHART_CATEGORIES:])
        series = [*shown, "Other"] if rest else shown
        events_per_day = []
        for day in days:
            values = {name: cells[(day, name)] for name in shown}
            if rest:
                values["Other"] = sum(cells[(day, name)] for name in rest)
            events_per_day.append({"day": day, "total": sum(values.values()), "by": values})
        top = sorted(
            (
                (
                    self.activity_names.get(pk, ""),
                    sum(n for (activity_id, _), n in self.counts.items() if activity_id == pk),
                )
                for pk in {activity_id for activity_id, _ in self.counts}
            ),
            key=lambda pair: (-pair[1], pair[0]),
        )[:TOP_ACTIVITIES]
        top_activities = []
        for name, count in top:
            changelist, api = self.links([name])
            top_activities.append(
                {"activity": name, "count": count, "changelist_url": changelist, "api_url": api}
            )
        return {
            "categories": series,
            "events_per_day": events_per_day,
            "failures_per_day": [{"day": day, "count": failures[day]} for day in days],
            "top_activities": top_activities,
        }
